"""One structured log line per request, with a request id echoed in X-Request-ID."""

import io
import json
import logging

import pytest
from django.conf import settings

from sessions_app.observability import JsonFormatter, RequestIdFilter, RequestLogMiddleware

LOGGER = "wingman.request"


@pytest.fixture
def lines():
    """The JSON lines the production handler (filter + formatter) writes while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def _request_lines(lines) -> list[dict]:
    return [line for line in lines() if line["logger"] == LOGGER]


def test_it_logs_one_line_per_request(client, db, lines):
    response = client.get("/healthz?probe=1")
    [line] = _request_lines(lines)
    assert line["method"] == "GET" and line["path"] == "/healthz" and line["status"] == 200
    assert line["level"] == "INFO" and line["user_id"] is None
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == response["X-Request-ID"]
    assert len(line["request_id"]) == 32  # generated: a uuid4 in hex


def test_it_keeps_a_sane_request_id_from_the_caller(client, db, lines):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:0042.retry_1"})
    assert response["X-Request-ID"] == "lb-7f3a:0042.retry_1"
    assert _request_lines(lines)[0]["request_id"] == "lb-7f3a:0042.retry_1"


@pytest.mark.parametrize("hostile", ["has spaces", "x" * 129, "new\\nline", "<script>", "ünïcode", "a;b"])
def test_it_replaces_a_request_id_that_is_not_a_sane_token(client, db, hostile):
    response = client.get("/healthz", headers={"X-Request-ID": hostile})
    assert response["X-Request-ID"] != hostile
    assert len(response["X-Request-ID"]) == 32


def test_it_names_the_user_when_the_request_loaded_it(client, mod, lines):
    client.force_login(mod)
    client.get("/admin/")
    [line] = _request_lines(lines)
    assert (line["path"], line["status"], line["user_id"]) == ("/admin/", 200, mod.pk)


def test_it_names_the_user_of_an_api_request(client, alice, lines):
    client.force_login(alice)
    client.get("/api/me/")
    [line] = _request_lines(lines)
    assert (line["path"], line["status"], line["user_id"]) == ("/api/me/", 200, alice.pk)


def test_it_logs_client_errors_as_warnings(client, db, lines):
    client.get("/no-such-page/")
    [line] = _request_lines(lines)
    assert (line["status"], line["level"]) == (404, "WARNING")


def test_it_stamps_the_request_id_on_every_record_of_the_request(client, db, lines, monkeypatch):
    from sessions_app import health

    def failing():
        raise RuntimeError("cache is on fire")

    monkeypatch.setitem(health.CHECKS, "cache", failing)
    response = client.get("/readyz")
    warning = next(line for line in lines() if line["logger"] == "sessions_app.health")
    assert warning["request_id"] == response["X-Request-ID"]
    assert warning["message"] == "readiness check cache failed: cache is on fire"


def test_it_leaves_records_outside_requests_without_an_id(lines):
    logging.getLogger("wingman.test").warning("background job %s", "ran", extra={"job": "close_stale"})
    [line] = [line for line in lines() if line["logger"] == "wingman.test"]
    assert line["request_id"] is None
    assert line["message"] == "background job ran" and line["job"] == "close_stale"


def test_it_formats_exceptions_into_the_same_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, "f", 1, "failed", (), exc_info=True)
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and "ValueError: boom" in entry["exception"]


def test_it_is_wired_into_the_settings():
    assert settings.MIDDLEWARE[0] == "sessions_app.observability.RequestLogMiddleware"
    console = settings.LOGGING["handlers"]["console"]
    assert console["filters"] == ["request_id"]
    assert settings.LOGGING["formatters"][console["formatter"]]["()"] == "sessions_app.observability.JsonFormatter"
    assert RequestLogMiddleware  # imported by its dotted path above
