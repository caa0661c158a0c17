"""Turning the bench's measurements into ratios to the floor, a Markdown table and a plot."""

import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


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


def floor_of(measurements: list[Measurement], round_no: int, connections: int, floor_key: str) -> Measurement:
    """The floor of one round and concurrency: the mean of its runs, which bracket the product runs."""
    runs = [m for m in measurements if m.round == round_no and m.connections == connections and m.key == floor_key]
    if not runs:
        raise ValueError(f"no floor run in round {round_no} at {connections} connections")
    return Measurement(
        round=round_no, connections=connections, key=floor_key,
        rps=statistics.fmean(m.rps for m in runs), p50_ms=statistics.fmean(m.p50_ms for m in runs),
        p95_ms=statistics.fmean(m.p95_ms for m in runs), p99_ms=statistics.fmean(m.p99_ms for m in runs),
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
    out += ["", "Medians over the rounds (p99 × floor: against the floor's p99 in the same round):", "",
            "| request | conn. | req/s | p50 ms | p95 ms | p99 ms | p99 × floor | requests | not 2xx/3xx |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key in keys:
        for c in levels:
            r = by.get((key, c))
            if r is None:
                continue
            out.append(f"| {labels[key]} | {c} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.p99_ms:.2f} "
                       f"| {r.p99_ratio_median:.2f} | {r.requests:,} | {r.non_2xx_3xx + r.socket_errors:,} |")
    return "\n".join(out) + "\n"


def plot(rows: list[Row], labels: dict[str, str], path: Path, title: str) -> None:
    """Latency (p50 and p99) against concurrency, one line per request kind, log scales."""
    import logging

    import matplotlib

    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys(r.key for r in rows))
    figure, axes = plt.subplots(1, 2, figsize=(14, 6.5), sharey=True)
    for axis, field, name in ((axes[0], "p50_ms", "p50"), (axes[1], "p99_ms", "p99")):
        for index, key in enumerate(keys):
            points = sorted((r.connections, getattr(r, field)) for r in rows if r.key == key)
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
