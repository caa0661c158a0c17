#!/usr/bin/env python3
"""The performance bench, one command (see README, "Benchmark"):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/15 \
        python3 bench/run.py [--rounds 3] [--seconds 3] [--concurrency 1,16,64] [--keep] [--no-profile]

1. builds a throwaway PostgreSQL database on the server of DATABASE_URL (a new
   wingman_bench_<random>, migrated, filled in SQL) and prints how long it took;
2. serves the product with gunicorn as production does (gunicorn.conf.py,
   DEBUG off) and, beside it, the floor (bench/floor.py) with the same
   worker settings; Redis on the index of REDIS_URL under a key prefix of
   its own;
3. counts round trips per request in a separate pass (bench/counting_wsgi.py);
4. drives wrk, alternating floor and product, rounds x concurrency levels;
5. profiles the floor and the product's reads and writes with py-spy (PROFILED);
6. writes bench/results/ (table, plot, profile, raw JSON), then stops the
   servers, deletes its Redis keys (SCAN of its prefix) and drops its database
   (unless --keep).
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def bootstrap() -> None:
    """Run inside the project's .venv, with the bench's own tools installed."""
    sys.path.insert(0, str(ROOT))
    import dev

    dev.ensure_environment("requirements.txt")
    requirements = ROOT / "bench" / "requirements.txt"
    stamp = ROOT / ".venv" / ".installed-bench"
    if not stamp.exists() or stamp.read_text() != requirements.read_text():
        dev.say("installing bench/requirements.txt")
        subprocess.run([VENV_PYTHON, "-m", "pip", "install", "--quiet", "-r", requirements], check=True)
        stamp.write_text(requirements.read_text())
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def server_environment(database_url: str, redis_url: str, prefix: str) -> dict:
    """What the bench's gunicorn servers run with: production settings, plain HTTP on loopback."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "WINGMAN_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "wingman.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain http on loopback: no redirect to https, cookies sent without TLS, no HSTS.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": prefix,
        # The load repeats one user's actions far faster than a person could.
        "THROTTLE_CONFIRM": "1000000/min",
        "THROTTLE_NOTES": "1000000/min",
        "THROTTLE_TOKEN": "1000000/min",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    })
    return env


def main() -> int:
    bootstrap()
    parser = argparse.ArgumentParser(description="Measure the app under gunicorn against a bare Django view.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=2, help="length of each wrk run")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated wrk connection counts")
    parser.add_argument("--confirms", type=int, default=30_000, help="fresh sessions prepared for POST confirm")
    parser.add_argument("--keep", action="store_true", help="keep the database (and the work folder) afterwards")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]

    server_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")) or not redis_url.startswith("redis://"):
        print("Set DATABASE_URL to a PostgreSQL server (the bench creates its own database there) and "
              "REDIS_URL to a Redis database index (the bench writes only under its own key prefix).",
              file=sys.stderr)
        return 2
    if not shutil.which("/usr/bin/wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    from bench import database, redis_keys

    run_id = secrets.token_hex(6)
    name = database.new_name()
    prefix = redis_keys.new_prefix()
    workdir = Path(tempfile.mkdtemp(prefix="wingman-bench-"))
    servers = []
    created = False
    say(f"database {name}, Redis prefix {prefix}, work folder {workdir}")
    try:
        started = time.perf_counter()
        url = database.create_database(server_url, name, run_id)
        created = True
        env = server_environment(url, redis_url, prefix)
        subprocess.run([VENV_PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        say(f"migrated in {time.perf_counter() - started:.1f} s; filling")
        from django.contrib.auth.hashers import make_password  # hashing needs no settings but the hasher list

        os.environ.update(env)
        import django

        django.setup()
        filled = database.fill(url, password_hash=make_password(secrets.token_urlsafe(16)),
                               confirms=args.confirms, say=say)
        build_seconds = time.perf_counter() - started
        say(f"database built in {build_seconds:.1f} s: " + ", ".join(f"{n:,} {t}" for t, n in filled.counts.items()))
        subprocess.run([VENV_PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)

        from bench import scenario

        plan = scenario.prepare(args.confirms)
        result = measure(plan, env, workdir, levels, args, servers)
        result["build"] = {"seconds": round(build_seconds, 1), "steps": filled.steps, "counts": filled.counts}
        write_results(Path(args.results), plan, result, args, levels)
        while servers:
            servers.pop().stop()
        if not args.no_profile:
            write_profiles(Path(args.results), profile_requests(plan, env, workdir, servers))
        say(f"done in {time.perf_counter() - started:.0f} s; results in {args.results}")
    finally:
        for server in servers:
            server.stop()
        try:
            deleted = redis_keys.delete_prefixed(redis_url, prefix)
            say(f"deleted {deleted:,} Redis keys under {prefix}:")
        except Exception as error:  # report, keep cleaning up
            say(f"could not delete the Redis keys under {prefix}: {error}")
        if created and not args.keep:
            from django.db import connections

            connections.close_all()
            database.drop_database(server_url, name, run_id)
            say(f"dropped {name}")
            shutil.rmtree(workdir, ignore_errors=True)
        elif created:
            say(f"kept {name} ({database.url_for(server_url, name)}) and {workdir}")
    return 0


def measure(plan, env: dict, workdir: Path, levels: list[int], args, servers: list) -> dict:
    from bench import cpu, load
    from bench import servers as gunicorn
    from bench.report import Measurement

    # Round trips, counted in a separate pass on servers of their own: one process with one thread, so that the
    # last of count()'s requests is served warm (each thread opens its own database and Redis connections, and
    # their set-up statements are round trips of the first request a thread serves, not of every request).
    one_thread = {"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1"}
    counter = gunicorn.start("count-product", "bench.counting_wsgi", env, workdir, ready_path="/healthz",
                             extra_env={"BENCH_COUNT_APP": "wingman.wsgi", **one_thread})
    floor_counter = gunicorn.start("count-floor", "bench.counting_wsgi", env, workdir, ready_path=plan.floor.path,
                                   extra_env={"BENCH_COUNT_APP": "bench.floor_wsgi", **one_thread})
    servers += [counter, floor_counter]
    plan.fill_etags(counter.url)
    counts = {plan.floor.key: count(floor_counter.url, plan.floor)}
    for kind in plan.kinds:
        counts[kind.key] = count(counter.url, kind)
    for server in (counter, floor_counter):
        server.stop()
        servers.remove(server)
    say("round trips per request: " + ", ".join(f"{k} {c['sql']}/{c['redis']}" for k, c in counts.items()))
    plan.skip_counted()

    product = gunicorn.start("product", "wingman.wsgi", env, workdir, ready_path="/healthz")
    floor = gunicorn.start("floor", "bench.floor_wsgi", env, workdir, ready_path=plan.floor.path)
    servers += [product, floor]
    rss_start = {"product": product.worker_rss_mb(), "floor": floor.worker_rss_mb()}
    say(f"servers up: product {product.url} ({len(rss_start['product'])} workers), floor {floor.url}")

    def one(server, kind, connections, seconds):
        """wrk's result, and the CPU each part of the machine spent per request during the run (cpu.py)."""
        pids = [server.process.pid, *server.worker_pids()]
        before = cpu.snapshot(pids)
        result = load.run(server.url, kind, connections=connections, seconds=seconds, workdir=workdir)
        used = cpu.per_request(before, cpu.snapshot(pids), result.requests)
        # wrk hangs up when its time is over, but the server still works off what was sent: wait until
        # it answers promptly again, so no run pays for the one before.
        settle(server.url + (plan.floor.path if server is floor else "/healthz"))
        return result, used

    say("warming up")
    # Every worker serves every kind before the figures count: at 64 connections for 2 s each, all five
    # workers get a share of even the slowest kind (at 16 connections for 1 s, a worker could meet the page
    # or the list for the first time in round 1, and its first template compilation counted as growth).
    for kind in [plan.floor, *plan.kinds]:
        one(floor if kind.floor else product, kind, 64, 2)
    # Growth is measured from here: what the first requests load (lazy imports, templates, URL patterns)
    # is not growth; the boot figure is reported beside it.
    rss_warm = {"product": product.worker_rss_mb(), "floor": floor.worker_rss_mb()}

    measurements = []
    rss_rounds = []  # the product workers' RSS after each round: growth that keeps going is a leak
    blocks = [plan.kinds[i:i + 3] for i in range(0, len(plan.kinds), 3)]
    for round_no in range(1, args.rounds + 1):
        for connections in levels:
            sequence = [plan.floor]
            for block in blocks:
                sequence += [*block, plan.floor]
            for kind in sequence:
                result, used = one(floor if kind.floor else product, kind, connections, args.seconds)
                measurements.append(Measurement(
                    round=round_no, connections=connections, key=kind.key, rps=result.rps, p50_ms=result.p50_ms,
                    p95_ms=result.p95_ms, p99_ms=result.p99_ms, requests=result.requests,
                    non_2xx_3xx=result.non_2xx_3xx, socket_errors=result.socket_errors, cpu_us=used))
            floor_rps = [m.rps for m in measurements
                         if m.round == round_no and m.connections == connections and m.key == plan.floor.key]
            say(f"round {round_no}, {connections} connections: floor {min(floor_rps):,.0f}–{max(floor_rps):,.0f} "
                "req/s")
        rss_rounds.append(product.worker_rss_mb())
    rss_end = {"product": product.worker_rss_mb(), "floor": floor.worker_rss_mb()}

    return {"measurements": measurements, "counts": counts, "rss_start": rss_start, "rss_warm": rss_warm,
            "rss_rounds": rss_rounds, "rss_end": rss_end}


# What py-spy samples, each at 16 connections on a server of its own: the floor, for comparison, and the
# product's reads and writes whose targets are missed or close (README, "Benchmark").
PROFILED = ("floor", "get_jwt", "get_jwt_304", "poll_304", "page", "notes", "confirm")


def profile_requests(plan, env: dict, workdir: Path, servers: list) -> list[dict]:
    """py-spy on the busiest worker while wrk sends one request kind at 16 connections, for each of PROFILED."""
    from bench import load, profile
    from bench import servers as gunicorn

    # Servers of their own without worker recycling, so the sampled worker lives through the recording.
    profiled = {
        "product": gunicorn.start("profile", "wingman.wsgi", env, workdir, ready_path="/healthz",
                                  extra_env={"GUNICORN_MAX_REQUESTS": "0"}),
        "floor": gunicorn.start("profile-floor", "bench.floor_wsgi", env, workdir, ready_path=plan.floor.path,
                                extra_env={"GUNICORN_MAX_REQUESTS": "0"}),
    }
    servers.extend(profiled.values())
    profiles = []
    for key in PROFILED:
        kind = plan.floor if key == plan.floor.key else plan.kind(key)
        server = profiled["floor" if kind.floor else "product"]
        say(f"profiling {kind.label} with py-spy")
        runner = subprocess.Popen(
            [load.WRK, "-t", "2", "-c", "16", "-d", "600s", "-s", str(load.script(kind, workdir, 16)),
             server.url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        svg = workdir / f"profile-{key}.svg"
        raw = workdir / f"profile-{key}.txt"
        try:
            time.sleep(2)  # past the first requests' lazy imports
            profile.record(profile.busiest(server.worker_pids()), 6, {"flamegraph": svg, "raw": raw})
        except RuntimeError as error:
            say(f"  {error}")
            continue
        finally:
            runner.terminate()
            runner.wait(timeout=30)
        samples, shares, top = profile.summarise(raw)
        profiles.append({"key": key, "label": kind.label, "svg": svg, "samples": samples, "shares": shares,
                         "top": top})
    for server in profiled.values():
        server.stop()
        servers.remove(server)
    return profiles


def settle(url: str, *, prompt: float = 0.03, longest: float = 5.0) -> None:
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=longest) as answer:
                answer.read()
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() - started < prompt:
            return


def count(base_url: str, kind) -> dict:
    """Send the request a few times, one after another; the round trips of the last (warm) one."""
    answers = []
    for attempt in range(4):
        path, headers, body = kind.request(attempt)
        request = urllib.request.Request(base_url + path, method=kind.method, data=body.encode() or None,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, headers = answer.status, answer.headers
        except urllib.error.HTTPError as answer:  # 304 and errors arrive here
            status, headers = answer.code, answer.headers
        answers.append((status, headers))
    status, headers = answers[-1]
    if status != kind.expect:
        raise RuntimeError(f"{kind.label}: expected {kind.expect}, the server answered {status}")
    return {"status": status, "sql": int(headers["X-Bench-SQL"]), "tx": int(headers["X-Bench-Tx"]),
            "redis": int(headers["X-Bench-Redis"])}


def write_results(folder: Path, plan, result: dict, args, levels: list[int]) -> None:
    from bench import readme, report

    folder.mkdir(parents=True, exist_ok=True)
    labels = {plan.floor.key: plan.floor.label, **{k.key: k.label for k in plan.kinds}}
    rows = report.summarise(result["measurements"], plan.floor.key)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rss = {side: (result["rss_start"][side], result["rss_warm"][side], result["rss_end"][side])
           for side in ("product", "floor")}
    build = result["build"]
    served = sum(m.requests for m in result["measurements"] if m.key != plan.floor.key)
    header = (
        f"### Bench run {when}\n\n"
        f"{platform.node()}: {os.cpu_count()} cores, PostgreSQL and Redis on loopback; "
        f"{args.rounds} rounds × {', '.join(map(str, levels))} connections, {args.seconds:g} s per wrk run, "
        f"floor and product alternating (a floor run before and after every three product runs).\n\n"
        f"Database built in {build['seconds']:.0f} s: "
        + ", ".join(f"{n:,} {t}" for t, n in build["counts"].items())
        + f"; the measured user has {plan.heavy_sessions:,} sessions, the light one {plan.light_sessions:,}.\n\n"
        + "Worker RSS (MB, each worker) at boot → after the warm-up → at the end: "
        + "; ".join(f"{side} {_rss(boot)} → {_rss(warm)} → {_rss(end)}" for side, (boot, warm, end) in rss.items())
        + f". The product's workers (never recycled: gunicorn.conf.py sets no max_requests) served "
        f"{served:,} requests after the warm-up; the most any worker grew over them is "
        f"{_growth(*rss['product'][1:])}, and over the rounds after the first "
        f"{_growth(result['rss_rounds'][0], rss['product'][2]) if result['rss_rounds'] else 'unknown'} "
        f"(largest worker after each round: "
        f"{', '.join(f'{max(sizes.values()):.0f}' for sizes in result['rss_rounds'] if sizes)} MB)."
    )
    table = report.markdown(rows, labels, result["counts"], header)
    (folder / "latest.md").write_text(table)
    if folder.resolve() == (ROOT / "bench" / "results").resolve():
        readme.show_latest(ROOT / "README.md", table, "bench/results/latency.png")
    report.plot(rows, labels, folder / "latency.png", f"Latency against concurrency ({when})")
    (folder / "latest.json").write_text(json.dumps({
        "when": when, "rounds": args.rounds, "seconds": args.seconds, "concurrency": levels,
        "build": build, "counts": result["counts"], "rss_start": result["rss_start"], "rss_warm": result["rss_warm"],
        "rss_rounds": result["rss_rounds"], "rss_end": result["rss_end"],
        "rows": report.as_dicts(rows), "measurements": report.as_dicts(result["measurements"]),
    }, indent=1, default=str))
    print(table)


def write_profiles(folder: Path, profiles: list[dict]) -> None:
    from bench import profile

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    parts = []
    for item in profiles:
        target = folder / f"profile-{item['key']}.svg"
        shutil.copyfile(item["svg"], target)
        parts.append(profile.markdown(f"{item['label']} at 16 connections ([flame graph]({target.name}))",
                                      item["samples"], item["shares"], item["top"]))
    if parts:
        (folder / "profile.md").write_text(f"## py-spy profile, {when}\n\n" + "\n".join(parts))


def _growth(start: dict, end: dict) -> str:
    """The largest RSS growth of a worker alive at both ends, as a percentage of its start."""
    both = [(start[pid], end[pid]) for pid in start if pid in end and start[pid]]
    if not both:
        return "unknown (no worker lived through the run)"
    return f"{max(100 * (after - before) / before for before, after in both):+.1f}%"


def _rss(sizes: dict) -> str:
    if not sizes:
        return "?"
    values = sorted(sizes.values())
    return f"{values[0]:.0f}–{values[-1]:.0f}" if values[-1] - values[0] >= 1 else f"{values[0]:.0f}"


if __name__ == "__main__":
    sys.exit(main())
