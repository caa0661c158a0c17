"""The reliability report: docs/RELIABILITY.md, written from the test run.

Tests of faults, races and attacks carry ``@pytest.mark.reliability(kind, name)``
(kind: fault, race or attack; parametrized cases under one name count
together) and may add figures with ``record_property("reliability", "...")``.
With WINGMAN_RELIABILITY_REPORT=<path> set, the session ends by writing a
Markdown table per kind: name, cases, outcome, figures; with the date, the
database vendor and the command that produced it. Works under xdist: the
marker travels to the controller in each report's user_properties.
"""

import os
import shlex
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

KINDS = {"fault": "Faults", "race": "Races", "attack": "Attacks"}
ENV = "WINGMAN_RELIABILITY_REPORT"
SHOWN_ENV = ("WINGMAN_REQUIRE_POSTGRES", "WINGMAN_REQUIRE_BROWSER")
CASE_PROPERTY = "reliability_case"
DATABASE_PROPERTY = "reliability_database"
FIGURE_PROPERTY = "reliability"


def reliability_case(item) -> tuple[str, str] | None:
    marker = item.get_closest_marker("reliability")
    if marker is None:
        return None
    if len(marker.args) != 2 or marker.args[0] not in KINDS or not str(marker.args[1]).strip():
        raise pytest.UsageError(f"{item.nodeid}: use @pytest.mark.reliability(kind, name) with kind one of "
                                f"{', '.join(KINDS)} and a short name")
    return marker.args[0], str(marker.args[1])


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        reliability_case(item)  # a misspelt kind fails the run at collection, not in the report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    case = reliability_case(item)
    if case is not None and not any(name == CASE_PROPERTY for name, _ in report.user_properties):
        report.user_properties.append((CASE_PROPERTY, list(case)))
        if call.when == "call":  # the test's database connection, if any, is still open
            report.user_properties.append((DATABASE_PROPERTY, database_vendor()))
    return report


class ReliabilityReport:
    """Collects the outcome of every marked test, per (kind, name)."""

    def __init__(self, config) -> None:
        self.config = config
        self.outcomes: dict[str, str] = {}  # nodeid -> passed / failed / skipped
        self.cases: dict[str, tuple[str, str]] = {}
        self.figures: dict[str, list[str]] = {}
        self.databases: set[str] = set()

    def pytest_runtest_logreport(self, report) -> None:
        properties = dict(report.user_properties)
        if CASE_PROPERTY not in properties:
            return
        self.cases[report.nodeid] = tuple(properties[CASE_PROPERTY])
        if DATABASE_PROPERTY in properties:
            self.databases.add(properties[DATABASE_PROPERTY])
        self.figures[report.nodeid] = [value for name, value in report.user_properties if name == FIGURE_PROPERTY]
        before = self.outcomes.get(report.nodeid)
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and before != "failed":
            self.outcomes[report.nodeid] = "skipped"
        elif report.when == "call" and before is None:
            self.outcomes[report.nodeid] = "passed"

    def grouped(self) -> dict[str, dict[str, dict]]:
        groups: dict[str, dict[str, dict]] = defaultdict(dict)
        for nodeid, (kind, name) in self.cases.items():
            entry = groups[kind].setdefault(name, {"passed": 0, "failed": 0, "skipped": 0, "figures": []})
            entry[self.outcomes.get(nodeid, "failed")] += 1
            entry["figures"].extend(self.figures.get(nodeid, []))
        return groups

    def markdown(self) -> str:
        shown = [ENV, *SHOWN_ENV]  # not DATABASE_URL / REDIS_URL: they may hold passwords
        settings = [f"{name}={shlex.quote(os.environ[name])}" for name in shown if os.environ.get(name)]
        command = " ".join([*settings, "python -m pytest", shlex.join(self.config.invocation_params.args)])
        lines = [
            "# Reliability",
            "",
            "Generated from the test run; do not edit by hand. Every fault, race and attack the tests "
            "provoke, with its cases, outcome and the figures the tests recorded.",
            "",
            f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- database: {self.database()}",
            f"- command: `{command.strip()}`",
        ]
        groups = self.grouped()
        for kind, title in KINDS.items():
            lines += ["", f"## {title}", ""]
            if not groups.get(kind):
                lines.append("None in this run.")
                continue
            lines += ["| name | cases | outcome | figures |", "|---|---:|---|---|"]
            for name, entry in sorted(groups[kind].items()):
                cases = entry["passed"] + entry["failed"] + entry["skipped"]
                outcome = ", ".join(f"{entry[o]} {o}" for o in ("passed", "failed", "skipped") if entry[o])
                figures = "; ".join(entry["figures"]) or "—"
                lines.append(f"| {cell(name)} | {cases} | {outcome} | {cell(figures)} |")
        return "\n".join(lines) + "\n"

    def database(self) -> str:
        """The most precise name seen (with a version when one was read)."""
        return max(self.databases, key=len, default=None) or database_vendor()

    def pytest_sessionfinish(self, session) -> None:
        path = os.environ.get(ENV)
        if not path or hasattr(self.config, "workerinput"):  # xdist workers report to the controller
            return
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.markdown())


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def database_vendor() -> str:
    """The database the tests run on, with the server version when a connection is open (never opens one)."""
    try:
        from django.db import connection

        vendor = connection.display_name
        open_connection = connection.connection
    except Exception:  # Django not configured (e.g. a plugin test): say so rather than guess
        return "unknown (Django not configured)"
    version = getattr(getattr(open_connection, "info", None), "server_version", None)
    if version:
        vendor += f" {version // 10000}.{version % 10000}"
    return vendor


def pytest_configure(config) -> None:
    config.pluginmanager.register(ReliabilityReport(config), "reliability-report")
