"""The early session reads as gunicorn serves them: a WSGI layer in front of Django's handler.

tests/api/test_early_session_reads.py and tests/pages/test_early_panel_polls.py
show what is answered early and when the view must answer instead, through
the test client. Here the requests go through the WSGI application itself
(EarlySessionReads around Django's handler, as in wingman/wsgi.py): the
early answer must be the one Django sends, headers of its outer middleware
included, and whatever that middleware decides before the view (the host
check, the https redirect, the proxy rule, a body) is still decided by it.
"""

import logging
import subprocess
import sys

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from django.test.client import FakePayload

from sessions_app import selectors, session_reads
from sessions_app.api.views import SessionViewSet
from sessions_app.observability import RequestIdFilter

from ..conftest import api_client, web_client

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("early_reads")]

HTMX = {"HTTP_HX_REQUEST": "true"}
PER_ANSWER = {"Date", "X-Request-ID"}


@pytest.fixture
def build():
    """Makes (the application gunicorn serves, Django's handler alone) from the settings as they stand,
    served in the test's own thread and transaction."""
    def apps():
        django_application = WSGIHandler()  # get_wsgi_application() without setting Django up (and its logging) again
        return session_reads.EarlySessionReads(django_application), django_application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield apps
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def reached(monkeypatch):
    """The requests that reached a view: DRF's dispatch for the API, the page view's session lookup."""
    from sessions_app import views

    calls = []
    dispatch, lookup = SessionViewSet.dispatch, views._participant_session

    def counting_dispatch(self, request, *args, **kwargs):
        calls.append(request.path)
        return dispatch(self, request, *args, **kwargs)

    def counting_lookup(request, session_id):
        calls.append(request.path)
        return lookup(request, session_id)

    monkeypatch.setattr(SessionViewSet, "dispatch", counting_dispatch)
    monkeypatch.setattr(views, "_participant_session", counting_lookup)
    return calls


@pytest.fixture
def records():
    """The log records written while the test runs (through the root logger, as the production handler)."""
    kept = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = kept.append
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield kept
    root.removeHandler(handler)


def call(app, client: Client, path: str, **extra) -> tuple[int, dict, bytes]:
    """One GET through a WSGI application, with the client's credentials and cookies."""
    environ = client._base_environ(**{**getattr(client, "_credentials", {}), "PATH_INFO": path,
                                      "REQUEST_METHOD": "GET", "QUERY_STRING": "", **extra})
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, headers

    answer = app(environ, start_response)
    try:
        body = b"".join(answer)
    finally:
        if hasattr(answer, "close"):
            answer.close()
    return int(started["status"][:3]), started["headers"], body


def body_of(case: str) -> dict:
    return {"wsgi.input": FakePayload(b"{}")} if case == "a body" else {}


def comparable(headers: list) -> list:
    return [(name, value) for name, value in headers if name not in PER_ANSWER]


def warm(app, client, path: str, **extra) -> str:
    """Django answers until the copy is stored and both answers are learnt: a 200, then 304s."""
    status, headers, _ = call(app, client, path, **extra)
    assert status == 200
    etag = dict(headers)["ETag"]
    for _ in range(2):
        call(app, client, path, **extra)
        assert call(app, client, path, HTTP_IF_NONE_MATCH=etag, **extra)[0] == 304
    return etag


def test_gunicorn_serves_the_early_reads_in_front_of_django():
    shown = subprocess.run(
        [sys.executable, "-c", "import wingman.wsgi as w; print(type(w.application).__name__, "
                               "type(w.application.django_application).__name__)"],
        capture_output=True, text=True, check=True, timeout=60)
    assert shown.stdout.split() == ["EarlySessionReads", "WSGIHandler"]


@pytest.mark.parametrize("credential", ["bearer", "cookie", "panel"])
def test_the_early_answer_is_djangos_own_answer(build, session, alice, reached, records,
                                                 django_assert_num_queries, credential):
    app, django_application = build()
    if credential == "panel":
        client, path, extra = web_client(alice), f"/sessions/{session.pk}/", HTMX
    else:
        client = api_client(alice) if credential == "bearer" else web_client(alice)
        path, extra = f"/api/sessions/{session.pk}/", {}
    etag = warm(app, client, path, **extra)
    django_304 = call(django_application, client, path, HTTP_IF_NONE_MATCH=etag, **extra)
    django_200 = call(django_application, client, path, **extra)
    before = len(reached)

    records.clear()
    with django_assert_num_queries(0):
        early_304 = call(app, client, path, HTTP_IF_NONE_MATCH=etag, HTTP_X_REQUEST_ID="poll-42", **extra)
        early_200 = call(app, client, path, **extra) if credential != "panel" else None

    assert len(reached) == before  # nothing reached a view
    assert early_304[0] == 304 and early_304[2] == b""
    assert comparable(early_304[1]) == comparable(django_304[1])  # security, CSP, Vary... in Django's order
    assert dict(early_304[1])["X-Request-ID"] == "poll-42"
    logged = [record for record in records if record.name == "wingman.request"]
    assert logged[0].status == 304 and logged[0].path == path and logged[0].user_id == alice.pk
    assert logged[0].request_id == "poll-42"
    if early_200 is not None:
        assert early_200[0] == 200 and early_200[2] == django_200[2]
        assert comparable(early_200[1]) == comparable(django_200[1])
        assert logged[1].status == 200


@pytest.mark.parametrize("path", ["/api/sessions/caf\u00c3\u00a9/", "/api/sessions/\u00f0\u009f\u0098\u0080/events/",
                                  "/sessions/\u00c3\u00a9/"])
def test_a_path_that_is_no_session_gets_djangos_answer(build, alice, path):
    """PATH_INFO holds the request's bytes as latin-1 (PEP 3333; here UTF-8 for café and an emoji)."""
    app, django_application = build()
    client = web_client(alice)
    answer, django_answer = call(app, client, path, **HTMX), call(django_application, client, path, **HTMX)
    assert answer[0] == django_answer[0] and answer[0] in (404, 422)  # the page's 404, the API's bad id


@pytest.mark.parametrize("case", ["host not allowed", "https redirect", "untrusted proxy says https",
                                  "a body", "https before any https answer"])
def test_what_the_middleware_decides_before_the_view_it_still_decides(build, session, alice, reached, settings,
                                                                     case):
    client, path = api_client(alice), f"/api/sessions/{session.pk}/"
    etag = warm(build()[0], client, path)
    extra = {"HTTP_IF_NONE_MATCH": etag}
    if case == "host not allowed":
        extra["HTTP_HOST"] = "evil.example"
    elif case == "https redirect":
        settings.SECURE_SSL_REDIRECT = True
    elif case == "untrusted proxy says https":  # behind a named proxy (10.0.0.1), this is not it
        settings.SECURE_SSL_REDIRECT = True
        settings.FORWARDED_ALLOW_IPS = ["10.0.0.1"]
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        extra.update(HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="203.0.113.9")
    elif case == "a body":
        extra.update(CONTENT_LENGTH="2", CONTENT_TYPE="application/json")
    else:
        extra["wsgi.url_scheme"] = "https"  # learnt over http only: the headers may differ (HSTS)
    app, django_application = build()  # with the settings of the case, as a new worker would load them
    app.django_application = django_application  # the same handler behind both
    if case == "untrusted proxy says https":  # answers to https requests through the proxy are learnt
        warm(app, client, path, HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.0.0.1")
    before = len(reached)

    status, headers, body = call(app, client, path, **extra, **body_of(case))
    django_status, django_headers, django_body = call(django_application, client, path, **extra, **body_of(case))

    assert (status, body) == (django_status, django_body)
    assert comparable(headers) == comparable(django_headers)
    expected = {"host not allowed": 400, "https redirect": 301, "untrusted proxy says https": 301}
    assert status == expected.get(case, 304)
    if case in ("a body", "https before any https answer"):
        assert len(reached) == before + 2  # both answered by the view
    else:
        assert len(reached) == before  # refused or redirected above the view, as Django does


def test_an_untrusted_claim_of_https_is_learnt_as_http(build, session, alice, settings):
    """Django's answer to a request that only claims https (not through a named proxy) is an http answer:
    it must not become the headers of later https answers (HSTS, say)."""
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    app, _ = build()
    client, path = api_client(alice), f"/api/sessions/{session.pk}/"
    warm(app, client, path, HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="203.0.113.9")
    [learnt] = session_reads._answered.values()
    assert {https for _, https in learnt} == {False}


def test_a_fault_in_the_early_answer_leaves_the_request_to_django(build, session, alice, reached, monkeypatch,
                                                                  records):
    app, _ = build()
    client, path = api_client(alice), f"/api/sessions/{session.pk}/"
    etag = warm(app, client, path)
    calls = []

    def broken(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("a bug in the copy check")

    monkeypatch.setattr(selectors, "session_copy_for_participant", broken)
    before = len(reached)

    status, headers, _ = call(app, client, path, HTTP_IF_NONE_MATCH=etag)

    assert calls and status == 304 and dict(headers)["ETag"] == etag
    assert len(reached) == before + 1
    assert any(record.levelno == logging.ERROR and "early session read failed" in record.getMessage()
               for record in records)


@pytest.mark.parametrize("header", [("Set-Cookie", "sessionid=abc; Path=/"),
                                    ("Content-Security-Policy", "script-src 'self' 'nonce-r4nd0m'")])
def test_an_answer_of_its_own_is_never_learnt(session, alice, header):
    """A cookie or a CSP nonce belongs to the one answer that carried it."""
    client = api_client(alice)
    environ = client._base_environ(**{**client._credentials, "PATH_INFO": f"/api/sessions/{session.pk}/"})
    early = session_reads.offer(environ, session_reads.before_view())

    early.learn(200, [("Content-Type", "application/json"), ("ETag", '"x"'), header])
    assert session_reads._answered == {}
    early.learn(200, [("Content-Type", "application/json"), ("ETag", '"x"')])
    assert session_reads._answered == {
        (early.name, early.kind): {(200, False): [("Content-Type", "application/json"), ("ETag", None)]}}
