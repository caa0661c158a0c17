"""py-spy on the product's gunicorn workers under load: a flame graph and a "where the time goes" summary.

py-spy samples the master and its workers (--subprocesses), idle frames
included (--idle), because a thread waiting on a network round trip to
PostgreSQL or Redis is exactly what we want to see. The summary counts only
samples taken inside a request (below gthread's handle), grouped by what the
frames belong to.
"""

import subprocess
from collections import Counter
from pathlib import Path

PY_SPY = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"

# (label, substring of a frame) checked in this order; a sample counts once per label.
CATEGORIES = [
    ("connection health check (SELECT 1)", "is_usable"),
    ("SQL round trips (psycopg execute)", "psycopg/cursor.py"),
    ("Redis round trips", "redis/connection.py"),
    ("Redis copy unpickling", "django_redis/serializers"),
    ("JWT authentication", "rest_framework_simplejwt"),
    ("session cookie authentication", "contrib/auth/__init__.py"),
    ("DRF serializers", "rest_framework/serializers.py"),
    ("DRF rendering (JSON)", "rest_framework/renderers.py"),
    ("Django templates", "django/template/"),
    ("throttling", "throttling.py"),
    ("per-request log line", "sessions_app/observability.py"),
    ("logging module", "logging/__init__.py"),
    ("middleware chain", "django/utils/deprecation.py"),
    ("URL resolving", "django/urls/resolvers.py"),
    ("Django ORM (building queries, models)", "django/db/models/"),
    ("domain layer: selectors", "sessions_app/selectors.py"),
    ("domain layer: rules", "sessions_app/rules.py"),
]
REQUEST_FRAME = "handle_request (gunicorn/workers/gthread.py"
APP_FRAME = "__call__ (django/core/handlers/wsgi.py"


def record(pid: int, seconds: int, output: Path, fmt: str) -> None:
    command = [str(PY_SPY), "record", "--pid", str(pid), "--subprocesses", "--idle", "--nonblocking",
               "--duration", str(seconds), "--rate", "250", "--format", fmt, "--output", str(output)]
    subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60)


def summarise(raw: Path) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(request samples, share per category, top self-time frames) from py-spy's collapsed stacks."""
    categories: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    outside_app = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if REQUEST_FRAME not in stack:
            continue
        count = int(count_text)
        total += count
        if APP_FRAME not in stack:
            outside_app += count
        seen = set()
        for label, needle in CATEGORIES:
            if needle in stack and label not in seen:
                seen.add(label)
                categories[label] += count
        leaves[stack.split(";")[-1]] += count
    if not total:
        return 0, [], []
    shares = [(label, categories[label] / total) for label, _ in CATEGORIES if categories[label]]
    shares.append(("gunicorn (reading, parsing, writing; outside Django)", outside_app / total))
    top = [(frame, count / total) for frame, count in leaves.most_common(15)]
    return total, shares, top


def markdown(title: str, samples: int, shares, top) -> str:
    lines = [f"### {title}", "", f"{samples:,} samples inside requests (all workers, idle frames included).", "",
             "| where (frames containing …) | share of request time |", "|---|---:|"]
    lines += [f"| {label} | {share:.0%} |" for label, share in shares]
    lines += ["", "Top frames by own time:", "", "| frame | share |", "|---|---:|"]
    lines += [f"| `{frame}` | {share:.1%} |" for frame, share in top]
    return "\n".join(lines) + "\n"
