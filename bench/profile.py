"""py-spy on a gunicorn worker under load: a flame graph and a "where the CPU goes" summary.

py-spy samples one worker's threads while they are on the CPU (idle
threads, waiting on a socket or for the GIL, are left out): under load this
machine is CPU-bound (bench/cpu.py), so a request kind's throughput is made
of its CPU, and waiting only shows that other threads have the CPU. Each
sample counts once, in a place named by its frames; samples outside a
request (gthread's loop: accepting, polling, handing connections to the
threads) are a place of their own, because the floor pays for them too.
"""

import subprocess
import time
from collections import Counter
from pathlib import Path

PY_SPY = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"

# Each sample goes to exactly one place, so the shares add up to 100%. Inside a request, first what a sample
# is part of, wherever the frame stands in its stack:
WITHIN = [
    ("connection health check (`SELECT 1` round trip)", ("is_usable (django/db/backends/postgresql",)),
    ("the per-request log line (logging, JSON, write to stderr)", ("logging/__init__.py",)),
]
# Then the frame nearest the leaf that belongs to one of these layers, so that Django's helpers called from a
# template count as the template's time and a query run by a template as SQL:
LAYERS = [
    ("SQL round trips (psycopg: send, wait, read)", ("psycopg/",)),
    ("Redis copy unpickling", ("django_redis/serializers",)),
    ("Redis round trips", ("redis/",)),
    ("JWT decoding and checking", ("jwt/", "rest_framework_simplejwt/")),
    ("JSON rendering", ("rest_framework/renderers.py", "json/")),
    ("DRF serializers and fields", ("rest_framework/serializers.py", "rest_framework/fields.py",
                                    "rest_framework/relations.py")),
    ("Django ORM (building SQL, making model instances)", ("django/db/",)),
    ("Django templates (with the tags and filters they call)", ("django/template/",)),
]
# Otherwise the nearest frame of our own code (with the Django helpers it calls), and last the frameworks
# around it, which are on every request's stack:
OURS = [
    ("app code (sessions_app, notifications)", ("sessions_app/", "notifications/")),
    ("the floor's view (bench/floor.py)", ("bench/floor.py",)),
]
FRAMEWORKS = [
    ("gunicorn (reading, parsing, writing the socket)", ("gunicorn/",)),
    ("DRF views, authentication, throttling", ("rest_framework/",)),
    ("Django request handling, middleware, URL routing", ("django/",)),
]
OTHER = "other (standard library, imports)"
OUTSIDE = "gunicorn's worker loop, outside requests (accepting, polling, handing over)"
REQUEST_FRAME = "handle_request (gunicorn/workers/gthread.py"


def busiest(pids: list[int], seconds: float = 1.0) -> int:
    """The worker that used the most CPU over the next ``seconds``: gunicorn spreads wrk's kept-alive
    connections over its workers unevenly, and the first worker may serve none of them."""
    def cpu_ticks(pid: int) -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(fields[11]) + int(fields[12])  # utime + stime

    before = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(seconds)
    return max(pids, key=lambda pid: cpu_ticks(pid) - before[pid])


def record(pid: int, seconds: int, outputs: dict[str, Path]) -> None:
    """Sample worker `pid` for `seconds`, into one output per format ("flamegraph", "raw") at once."""
    runs = []
    for fmt, output in outputs.items():
        log = output.with_suffix(".log")  # py-spy's progress lines; a file never fills up like a pipe
        command = [str(PY_SPY), "record", "--pid", str(pid), "--nonblocking", "--duration", str(seconds),
                   "--rate", "200", "--format", fmt, "--output", str(output)]
        runs.append((subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb")), log))
    failures = []
    for run, log in runs:
        try:
            run.wait(timeout=seconds + 240)  # py-spy slows down a lot on a busy machine
        except subprocess.TimeoutExpired:
            run.terminate()
            run.wait()
        if run.returncode != 0:
            failures.append(f"exit {run.returncode}: " + log.read_text(errors="replace")[-2000:])
    if failures:
        raise RuntimeError("py-spy failed: " + "\n".join(failures))


def place_of(frames: list[str]) -> str:
    """The one place a sample's time belongs to (frames from the root to the leaf)."""
    for label, needles in WITHIN:
        if any(needle in frame for frame in frames for needle in needles):
            return label
    for places in (LAYERS, OURS, FRAMEWORKS):
        for frame in reversed(frames):
            for label, needles in places:
                if any(needle in frame for needle in needles):
                    return label
    return OTHER


def summarise(raw: Path) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(samples, share per place, top own-time frames) from py-spy's collapsed stacks."""
    places: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        total += count
        places[place_of(frames) if REQUEST_FRAME in stack else OUTSIDE] += count
        leaves[frames[-1]] += count
    if not total:
        return 0, [], []
    shares = [(label, count / total) for label, count in places.most_common()]
    top = [(frame, count / total) for frame, count in leaves.most_common(15)]
    return total, shares, top


def markdown(title: str, samples: int, shares, top) -> str:
    lines = [f"### {title}", "", f"{samples:,} samples of the busiest worker's threads while on the CPU.", "",
             "| where the CPU goes | share |", "|---|---:|"]
    lines += [f"| {label} | {share:.0%} |" for label, share in shares]
    lines += ["", "Top frames by own time:", "", "| frame | share |", "|---|---:|"]
    lines += [f"| `{frame}` | {share:.1%} |" for frame, share in top]
    return "\n".join(lines) + "\n"
