"""The bench's arithmetic: wrk's output read, each figure a ratio to the floor of its own round."""

import os

import pytest

from bench import load, report


def measurement(round_no, key, rps, p99, connections=16):
    return report.Measurement(round=round_no, connections=connections, key=key, rps=rps, p50_ms=1.0, p95_ms=2.0,
                              p99_ms=p99, requests=int(rps * 3), non_2xx_3xx=0, socket_errors=0)


def test_one_stalled_floor_run_does_not_stand_for_the_round():
    """Latency against the median of the round's floor runs: one run with a stall (p99 1.2 s, as the 20:59
    run saw) would otherwise make the product's p99 look a tenth of the floor's."""
    runs = [measurement(1, "floor", 1000, 4.0), measurement(1, "get", 900, 6.0), measurement(1, "floor", 1000, 1200.0),
            measurement(1, "floor", 1000, 5.0)]
    floor = report.floor_of(runs, 1, 16, "floor")
    assert floor.p99_ms == 5.0 and floor.rps == 1000
    assert {row.key: row for row in report.summarise(runs, "floor")}["get"].p99_ratio_median == 1.2


def test_one_slow_floor_run_does_not_lift_the_products_ratio():
    """Throughput against the median of the round's floor runs too: one floor run at a third of the others'
    pace (as the 23:28 run saw) would otherwise make the product look about a tenth faster than it is."""
    runs = [measurement(1, "floor", 3000, 5.0), measurement(1, "get", 2700, 6.0), measurement(1, "floor", 1100, 5.0),
            measurement(1, "floor", 2900, 5.0), measurement(1, "floor", 3100, 5.0)]
    assert report.floor_of(runs, 1, 16, "floor").rps == 2950
    assert {row.key: row for row in report.summarise(runs, "floor")}["get"].rps_ratio_median == pytest.approx(
        2700 / 2950)


def test_it_divides_by_the_floor_of_the_same_round():
    runs = [
        measurement(1, "floor", 900, 4.0), measurement(1, "get", 500, 8.0), measurement(1, "floor", 1100, 4.0),
        measurement(2, "floor", 2000, 2.0), measurement(2, "get", 1500, 3.0), measurement(2, "floor", 2000, 2.0),
    ]
    rows = {row.key: row for row in report.summarise(runs, "floor")}
    get = rows["get"]
    assert (get.rps_ratio_min, get.rps_ratio_max) == (0.5, 0.75)  # 500 / mean(900, 1100), 1500 / 2000
    assert get.p99_ratio_median == 1.75  # median of 8/4 and 3/2
    # The floor's own row shows how much its runs within one round spread.
    assert (rows["floor"].rps_ratio_min, rows["floor"].rps_ratio_max) == (0.9, 1.1)

    table = report.markdown(report.summarise(runs, "floor"), {"floor": "floor", "get": "GET session"},
                            {"get": {"sql": 3, "tx": 0, "redis": 1, "status": 200}}, "## run")
    assert "| GET session | 0.50–0.75 | 3 | 0 | 1 | 200 |" in table


def test_it_reads_the_line_the_lua_script_prints():
    output = ("Running 3s test @ http://127.0.0.1:1\n"
              'WRKJSON {"requests":3000,"duration_us":3000000,"non_2xx_3xx":2,"socket_errors":1,'
              '"p50_us":1500,"p95_us":4000,"p99_us":9000,"max_us":12000}\n')
    result = load.parse(output)
    assert result.rps == 1000
    assert (result.p50_ms, result.p95_ms, result.p99_ms) == (1.5, 4.0, 9.0)
    assert (result.non_2xx_3xx, result.socket_errors) == (2, 1)


def test_a_rotating_kind_sends_each_line_with_its_own_token(tmp_path):
    kind = load.Kind("confirm", "POST confirm", method="POST", headers={"Content-Type": "application/json"},
                     rotate=[("/api/session/a/confirm", "token-a", "{}"), ("/api/session/b/notes", "token-b",
                                                                             '{"notes": "edit {n}"}')])
    assert kind.request(0) == ("/api/session/a/confirm",
                               {"Content-Type": "application/json", "Authorization": "Bearer token-a"}, "{}")
    assert kind.request(1)[2] == '{"notes": "edit c1"}'
    script = load.script(kind, tmp_path, 16).read_text()
    assert 'wrk.method = "POST"' in script
    lines = (tmp_path / "confirm.tsv").read_text().splitlines()
    assert lines[1] == '/api/session/b/notes\ttoken-b\t{"notes": "edit {n}"}'


def test_the_readme_gets_the_latest_table_between_its_markers(tmp_path):
    from bench import readme

    path = tmp_path / "README.md"
    path.write_text(f"# App\n\n## Benchmark\n\n{readme.START}\nold table\n{readme.END}\n\n## After\n")
    assert readme.show_latest(path, "| new | table |\n", "bench/results/latency.png")
    text = path.read_text()
    assert "old table" not in text
    assert "| new | table |" in text and "![Latency against concurrency](bench/results/latency.png)" in text
    assert text.startswith("# App\n\n## Benchmark\n\n") and text.endswith(f"{readme.END}\n\n## After\n")


def test_a_readme_without_markers_is_left_alone(tmp_path):
    from bench import readme

    path = tmp_path / "README.md"
    path.write_text("# App\n")
    assert not readme.show_latest(path, "| table |", "plot.png")
    assert path.read_text() == "# App\n"


def test_the_cpu_tables_say_what_a_missed_target_would_allow():
    def run(round_no, key, rps, machine):
        m = measurement(round_no, key, rps, 4.0)
        m.cpu_us = {"workers": machine * 0.6, "postgresql": machine * 0.1, "redis": machine * 0.05,
                    "wrk": machine * 0.15, "machine": machine}
        return m

    runs = [run(1, "floor", 2000, 1000.0), run(1, "get_jwt_304", 1600, 1250.0), run(1, "notes", 200, 10_000.0),
            run(1, "floor", 2000, 1000.0)]
    rows = report.summarise(runs, "floor")
    by = {row.key: row for row in rows}
    assert by["notes"].cpu_us["machine"] == 10_000.0
    assert by["floor"].busy == pytest.approx(2000 * 1000.0 / 1e6 / os.cpu_count())

    table = report.markdown(rows, {"floor": "floor", "get_jwt_304": "GET → 304", "notes": "PATCH notes"}, {}, "#")
    assert "| floor | 1,000 | 600 | 100 | 50 | 150 | 100 |" in table
    # 1.2× the floor allows 1,000 / 1.2 µs per request: 1,250 µs needs a third of it gone.
    assert "| GET → 304 | 1.2 | 0.80 | **no** | 1,250 | 833 | 33% |" in table
    assert "| PATCH notes | 0.3 | 0.10 | **no** | 10,000 | 3,333 | 67% |" in table


def test_without_cpu_figures_there_are_no_cpu_tables():
    runs = [measurement(1, "floor", 1000, 4.0), measurement(1, "get_jwt", 900, 4.0)]
    table = report.markdown(report.summarise(runs, "floor"), {"floor": "floor", "get_jwt": "GET"}, {}, "#")
    assert "CPU per request" not in table and "allowed" not in table
