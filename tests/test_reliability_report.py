"""The reliability report plugin (tests/reliability.py), run on a small test file of its own."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = """
import pytest

@pytest.mark.reliability("fault", "Redis stopped")
@pytest.mark.parametrize("case", ["a", "b", "c"])
def test_redis(case, record_property):
    record_property("reliability", f"case {case}: 0 x 5xx")
    assert case != "c"

@pytest.mark.reliability("race", "two confirms | at once")
def test_race():
    pass

@pytest.mark.reliability("race", "skipped race")
def test_skipped():
    pytest.skip("needs PostgreSQL")

def test_unmarked():
    pass
"""


@pytest.fixture
def run(pytester, monkeypatch):
    def run_with(source: str, *args: str, report: bool = True):
        pytester.makepyfile(test_sample=source)
        target = pytester.path / "out" / "RELIABILITY.md"
        monkeypatch.setenv("PYTHONPATH", str(ROOT))
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # only the plugin under test (fast start)
        if report:
            monkeypatch.setenv("WINGMAN_RELIABILITY_REPORT", str(target))
        else:
            monkeypatch.delenv("WINGMAN_RELIABILITY_REPORT", raising=False)
        result = pytester.runpytest_subprocess("-p", "tests.reliability", "-p", "no:cacheprovider", *args)
        return result, target

    return run_with


def test_it_writes_a_table_per_kind_with_cases_outcomes_and_figures(run):
    result, target = run(SAMPLE)
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    report = target.read_text()
    assert "| Redis stopped | 3 | 2 passed, 1 failed | case a: 0 x 5xx; case b: 0 x 5xx; case c: 0 x 5xx |" in report
    assert "| two confirms \\| at once | 1 | 1 passed | — |" in report
    assert "| skipped race | 1 | 1 skipped | — |" in report
    assert "## Attacks\n\nNone in this run." in report
    assert "test_unmarked" not in report and "unmarked" not in report
    assert "- command: `WINGMAN_RELIABILITY_REPORT=" in report and "python -m pytest" in report
    assert "- database: " in report and "- date: " in report


def test_it_counts_the_same_under_xdist(run):
    result, target = run(SAMPLE, "-p", "xdist.plugin", "-n", "2")
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    assert "| Redis stopped | 3 | 2 passed, 1 failed |" in target.read_text()


def test_it_writes_nothing_without_the_variable(run):
    result, target = run(SAMPLE, report=False)
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    assert not target.exists()


def test_it_refuses_an_unknown_kind(run):
    result, target = run('import pytest\n@pytest.mark.reliability("oops", "x")\ndef test_x():\n    pass\n')
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*use @pytest.mark.reliability(kind, name)*"])
