"""CPU per request from /proc: each part's CPU time before and after a run, divided by the requests."""

import shutil

import pytest

from bench import cpu


def fake_process(proc, pid, name, utime, stime, cutime=0, cstime=0):
    folder = proc / str(pid)
    folder.mkdir(exist_ok=True)
    (folder / "comm").write_text(f"{name}\n")
    # pid (comm) state ppid ... fields 14-17 utime, stime, cutime, cstime; a command name may hold spaces and
    # brackets
    fields = ["S", "1"] + ["0"] * 9 + [str(utime), str(stime), str(cutime), str(cstime)] + ["0"] * 28
    (folder / "stat").write_text(f"{pid} ({name} (x)) " + " ".join(fields) + "\n")


@pytest.fixture
def proc(tmp_path):
    fake_process(tmp_path, 10, "gunicorn", 300, 100)
    fake_process(tmp_path, 11, "gunicorn", 50, 50)
    fake_process(tmp_path, 20, "postgres", 40, 10)
    fake_process(tmp_path, 21, "postgres", 5, 5)
    fake_process(tmp_path, 30, "redis-server", 7, 3)
    (tmp_path / "self").mkdir()  # not a process folder
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    (tmp_path / "stat").write_text("cpu  1000 10 500 9000 90 5 40 70 100 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n")
    return tmp_path


def test_each_part_is_summed_over_its_processes(proc):
    assert cpu.process_ticks(10, proc) == 400
    assert cpu.process_ticks(99, proc) == 0  # gone
    assert sorted(cpu.pids_named("postgres", proc)) == [20, 21]
    assert cpu.machine_busy_ticks(proc) == 1000 + 10 + 500 + 5 + 40  # not idle, iowait, steal; guest is in user

    taken = cpu.snapshot([10, 11], proc)
    assert taken["workers"] == 500 * cpu.TICK_US
    assert taken["postgresql"] == 60 * cpu.TICK_US
    assert taken["redis"] == 10 * cpu.TICK_US
    assert taken["machine"] == 1555 * cpu.TICK_US


def test_per_request_divides_the_difference_by_the_requests():
    before = {"workers": 1_000.0, "postgresql": 500.0, "redis": 0.0, "wrk": 100.0, "machine": 2_000.0}
    after = {"workers": 5_000.0, "postgresql": 900.0, "redis": 200.0, "wrk": 300.0, "machine": 8_000.0}
    assert cpu.per_request(before, after, 10) == {"workers": 400.0, "postgresql": 40.0, "redis": 20.0, "wrk": 20.0,
                                                  "machine": 600.0}
    assert cpu.per_request(before, after, 0) == {}
    # A process that ended between the snapshots takes its time with it: never a negative share.
    assert cpu.per_request(after, before, 10)["workers"] == 0.0


def test_a_process_that_ends_during_a_run_keeps_its_time_in_its_parents(tmp_path):
    """A backend whose connection closes mid-run: its time moves to the postmaster's reaped children's, and
    PostgreSQL's sum only grows (counting only the living, it fell and read as 0)."""
    fake_process(tmp_path, 1, "postgres", 5, 5)  # the postmaster
    fake_process(tmp_path, 2, "postgres", 80, 20)  # a backend
    (tmp_path / "stat").write_text("cpu  0 0 0 0 0 0 0 0 0 0\n")
    before = cpu.snapshot([], tmp_path)
    shutil.rmtree(tmp_path / "2")  # it used 30 more ticks, ended, and the postmaster reaped it
    fake_process(tmp_path, 1, "postgres", 5, 5, cutime=105, cstime=25)
    fake_process(tmp_path, 3, "postgres", 4, 1)  # a new backend
    after = cpu.snapshot([], tmp_path)
    assert cpu.per_request(before, after, 1)["postgresql"] == (30 + 5) * cpu.TICK_US
