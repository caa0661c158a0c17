"""Turning the bench's measurements into ratios to the floor, a Markdown table and a plot."""

import os
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The throughput targets (× the floor at 16 connections): the bench says which are met, and for
# those that are not, how much CPU per request the target would allow (see cpu.py).
TARGETS = {"healthz": 0.9, "get_jwt": 0.8, "get_jwt_304": 1.2, "page": 0.5, "poll_304": 1.2, "list": 0.5,
           "list_light": 0.5, "stats": 0.5, "stats_light": 0.5, "notes": 0.3, "confirm": 0.3}
TARGET_CONNECTIONS = 16
CPU_PARTS = (("workers", "gunicorn workers"), ("postgresql", "PostgreSQL"), ("redis", "Redis"), ("wrk", "wrk"))


@dataclass
class Measurement:
    round: int
    connections: int
    key: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    cpu_us: dict[str, float] = field(default_factory=dict)  # CPU per request by part (cpu.py); {}: not measured


def busy_share(m: Measurement, cores: int | None = None) -> float | None:
    """How busy the machine's CPUs were during the run (1.0: all of them, all the time)."""
    if "machine" not in m.cpu_us:
        return None
    return m.cpu_us["machine"] * m.rps / 1e6 / (cores or os.cpu_count() or 1)


def floor_of(measurements: list[Measurement], round_no: int, connections: int, floor_key: str) -> Measurement:
    """The floor of one round and concurrency, from its runs (which bracket the product runs): the median of
    their throughputs and of their latencies.

    A median, because one floor run in a round can be disturbed, and a mean would let it stand for the round
    in the product's favour. The 20:59 run had three of its eighteen floor runs at 16 connections stall to a
    p99 of 0.8-1.2 s against 14-31 ms for the others, which made every product p99 look a tenth of the
    floor's; the 23:28 run had two floor runs at 16 connections serve 1,092-1,107 req/s against 2,658-3,084
    for the others (the floor's workers spent 963 µs of CPU per request instead of 550-625), which made the
    product's throughput ratios of those rounds about a tenth higher.
    """
    runs = [m for m in measurements if m.round == round_no and m.connections == connections and m.key == floor_key]
    if not runs:
        raise ValueError(f"no floor run in round {round_no} at {connections} connections")
    return Measurement(
        round=round_no, connections=connections, key=floor_key,
        rps=statistics.median(m.rps for m in runs), p50_ms=statistics.median(m.p50_ms for m in runs),
        p95_ms=statistics.median(m.p95_ms for m in runs), p99_ms=statistics.median(m.p99_ms for m in runs),
        requests=sum(m.requests for m in runs), non_2xx_3xx=sum(m.non_2xx_3xx for m in runs),
        socket_errors=sum(m.socket_errors for m in runs),
    )


@dataclass
class Row:
    key: str
    connections: int
    rps: float  # median over rounds
    rps_ratio_min: float
    rps_ratio_max: float
    rps_ratio_median: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    p99_ratio_median: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    cpu_us: dict[str, float] = field(default_factory=dict)  # medians over the rounds, by part
    busy: float | None = None  # median share of the machine's CPUs busy during the runs


def _medians(dicts: list[dict[str, float]]) -> dict[str, float]:
    measured = [d for d in dicts if d]
    if not measured:
        return {}
    return {part: statistics.median(d[part] for d in measured) for part in measured[0]}


def _median_busy(runs: list[Measurement]) -> float | None:
    shares = [share for share in map(busy_share, runs) if share is not None]
    return statistics.median(shares) if shares else None


def summarise(measurements: list[Measurement], floor_key: str) -> list[Row]:
    """One row per (kind, concurrency): medians over the rounds, ratios to the floor of the same round."""
    rows = []
    keys = list(dict.fromkeys(m.key for m in measurements))
    levels = sorted({m.connections for m in measurements})
    for key in keys:
        for connections in levels:
            runs = [m for m in measurements if m.key == key and m.connections == connections]
            if not runs:
                continue
            floors = [floor_of(measurements, m.round, connections, floor_key) for m in runs]
            rps_ratios = [m.rps / f.rps if f.rps else 0.0 for m, f in zip(runs, floors, strict=True)]
            p99_ratios = [m.p99_ms / f.p99_ms if f.p99_ms else 0.0 for m, f in zip(runs, floors, strict=True)]
            rows.append(Row(
                key=key, connections=connections, rps=statistics.median(m.rps for m in runs),
                rps_ratio_min=min(rps_ratios), rps_ratio_max=max(rps_ratios),
                rps_ratio_median=statistics.median(rps_ratios),
                p50_ms=statistics.median(m.p50_ms for m in runs), p95_ms=statistics.median(m.p95_ms for m in runs),
                p99_ms=statistics.median(m.p99_ms for m in runs), p99_ratio_median=statistics.median(p99_ratios),
                requests=sum(m.requests for m in runs), non_2xx_3xx=sum(m.non_2xx_3xx for m in runs),
                socket_errors=sum(m.socket_errors for m in runs),
                cpu_us=_medians([m.cpu_us for m in runs]),
                busy=_median_busy(runs),
            ))
    return rows


def _ratio_range(row: Row) -> str:
    if abs(row.rps_ratio_max - row.rps_ratio_min) < 0.005:
        return f"{row.rps_ratio_median:.2f}"
    return f"{row.rps_ratio_min:.2f}–{row.rps_ratio_max:.2f}"


def markdown(rows: list[Row], labels: dict[str, str], counts: dict[str, dict], header: str) -> str:
    """The summary table (× floor per concurrency, round trips) and the detailed one."""
    levels = sorted({r.connections for r in rows})
    by = {(r.key, r.connections): r for r in rows}
    keys = list(dict.fromkeys(r.key for r in rows))
    out = [header, "",
           "Throughput as × the floor's of the same round (range over rounds), and round trips per request "
           "counted on the server in a separate pass (SQL statements including the health check's `SELECT 1`; "
           "transactions; Redis commands). The floor's own row shows how far its runs within one round spread.",
           ""]
    out.append("| request | " + " | ".join(f"× floor, {c} conn." for c in levels)
               + " | SQL | tx | Redis | status |")
    out.append("|---|" + "---:|" * len(levels) + "---:|---:|---:|---|")
    for key in keys:
        cells = [(_ratio_range(by[(key, c)]) if (key, c) in by else "") for c in levels]
        count = counts.get(key, {})
        out.append(f"| {labels[key]} | " + " | ".join(cells)
                   + f" | {count.get('sql', '')} | {count.get('tx', '')} | {count.get('redis', '')}"
                   + f" | {count.get('status', '')} |")
    out += ["", "Medians over the rounds (p99 × floor: against the median p99 of the floor's runs in the same "
            "round):", "",
            "| request | conn. | req/s | p50 ms | p95 ms | p99 ms | p99 × floor | requests | not 2xx/3xx |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key in keys:
        for c in levels:
            r = by.get((key, c))
            if r is None:
                continue
            out.append(f"| {labels[key]} | {c} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.p99_ms:.2f} "
                       f"| {r.p99_ratio_median:.2f} | {r.requests:,} | {r.non_2xx_3xx + r.socket_errors:,} |")
    out += cpu_markdown(rows, labels, floor_key=keys[0])  # the floor runs first, so its rows come first
    return "\n".join(out) + "\n"


def cpu_markdown(rows: list[Row], labels: dict[str, str], *, floor_key: str,
                 connections: int = TARGET_CONNECTIONS) -> list[str]:
    """Lines of two tables: the CPU one request costs the machine, by part; and each target against it."""
    by = {r.key: r for r in rows if r.connections == connections and r.cpu_us}
    if floor_key not in by:
        return []
    out = ["", f"CPU per request at {connections} connections, in µs (medians over the rounds; `bench/cpu.py`): "
           "what the server's gunicorn processes, PostgreSQL, Redis and wrk used during the run, divided by the "
           "requests wrk counted; \"rest\" is the machine's busy time that none of them accounts for. With the "
           "machine's CPUs this busy, throughput is about the cores divided by the machine's CPU per request.", "",
           "| request | machine | " + " | ".join(name for _, name in CPU_PARTS) + " | rest | CPUs busy |",
           "|---|---:|" + "---:|" * len(CPU_PARTS) + "---:|---:|"]
    for key, row in by.items():
        parts = [row.cpu_us.get(part, 0.0) for part, _ in CPU_PARTS]
        rest = row.cpu_us.get("machine", 0.0) - sum(parts)
        busy = "" if row.busy is None else f"{row.busy:.0%}"
        out.append(f"| {labels[key]} | {row.cpu_us.get('machine', 0.0):,.0f} | "
                   + " | ".join(f"{value:,.0f}" for value in parts) + f" | {rest:,.0f} | {busy} |")
    floor_cpu = by[floor_key].cpu_us.get("machine", 0.0)
    out += ["", f"The targets at {connections} connections. \"Allowed\" is the machine CPU per request at which a "
            f"request would run at the target's multiple of the floor (the floor's {floor_cpu:,.0f} µs divided "
            "by the target), so \"cut\" is how much of its CPU per request a missed target would need gone.", "",
            "| request | target | × floor now | met | machine CPU now, µs | allowed, µs | cut needed |",
            "|---|---:|---:|---|---:|---:|---:|"]
    for key, target in TARGETS.items():
        row = by.get(key)
        if row is None:
            continue
        met = row.rps_ratio_median >= target
        now = row.cpu_us.get("machine", 0.0)
        allowed = floor_cpu / target if target else 0.0
        cut = "" if met or not now else f"{1 - allowed / now:.0%}"
        out.append(f"| {labels[key]} | {target:g} | {row.rps_ratio_median:.2f} | {'yes' if met else '**no**'} | "
                   f"{now:,.0f} | {allowed:,.0f} | {cut} |")
    return out


def plot(rows: list[Row], labels: dict[str, str], path: Path, title: str) -> None:
    """Latency (p50 and p99) against concurrency, one line per request kind, log scales."""
    import logging

    import matplotlib

    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys(r.key for r in rows))
    figure, axes = plt.subplots(1, 2, figsize=(14, 6.5), sharey=True)
    for axis, figure_of, name in ((axes[0], "p50_ms", "p50"), (axes[1], "p99_ms", "p99")):
        for index, key in enumerate(keys):
            points = sorted((r.connections, getattr(r, figure_of)) for r in rows if r.key == key)
            style = ({"color": "black", "linewidth": 3} if index == 0
                     else {"color": plt.get_cmap("tab20")(index % 20), "linestyle": ("-", "--", ":")[index % 3]})
            label = labels[key].replace("`", "").replace("**", "")
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label, **style)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(sorted({r.connections for r in rows}))
        axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axis.set_xlabel("concurrent connections (wrk)")
        axis.set_title(f"{name} latency")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms (log scale)")
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def as_dicts(items) -> list[dict]:
    return [asdict(item) for item in items]
