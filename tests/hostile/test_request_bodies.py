"""Bodies that did not arrive whole are refused everywhere and change nothing
(issue 8, defect 3): shorter than their Content-Length, chunked, or with a
Content-Length that is not a number. Checked through the WSGI environ here and
once against a real gunicorn over a raw socket."""

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from sessions_app.models import WingmanSession
from sessions_app.services import notes_digest
from tests.conftest import on_postgres, require_or_skip

from .conftest import assert_problem, assert_refused_page, cut_short

ROOT = Path(__file__).resolve().parents[2]
NOTES = json.dumps({"notes": "Meet at the bar at eight, bring the cards and the map"}).encode()


def api_patch(client, session, **environ):
    return client.generic("PATCH", f"/api/sessions/{session.pk}/notes/", b"", content_type="application/json",
                          **environ)


def page_post(client, session, **environ):
    return client.generic("POST", f"/sessions/{session.pk}/notes/", b"",
                          **{"CONTENT_TYPE": "application/x-www-form-urlencoded", **environ})


def notes_form(session, notes: str) -> bytes:
    from urllib.parse import urlencode

    return urlencode({"notes": notes, "expected_version": session.version,
                      "base_digest": notes_digest(session.notes)}).encode()


@pytest.mark.reliability("attack", "truncated request body")
def test_it_refuses_api_notes_shorter_than_their_content_length(alice_api, session, unchanged):
    with unchanged():
        response = api_patch(alice_api, session, **cut_short(NOTES[: len(NOTES) // 2], len(NOTES)))
    assert_problem(response, 400, "incomplete_body")
    assert WingmanSession.objects.get(pk=session.pk).notes == ""


@pytest.mark.reliability("attack", "truncated request body")
def test_it_refuses_page_notes_shorter_than_their_content_length(alice_web, session, unchanged):
    body = notes_form(session, "Meet at the bar at eight, bring the cards")
    with unchanged():
        response = page_post(alice_web, session, **cut_short(body[:-12], len(body)))
    page = assert_refused_page(response, 400)
    assert "arrived incomplete" in page and "Notes saved" not in page


@pytest.mark.reliability("attack", "truncated request body")
def test_it_still_saves_a_whole_body(alice_api, alice_web, session):
    response = api_patch(alice_api, session, **cut_short(NOTES, len(NOTES)))
    assert response.status_code == 200
    assert WingmanSession.objects.get(pk=session.pk).notes.startswith("Meet at the bar at eight")
    session.refresh_from_db()
    body = notes_form(session, "Whole")
    response = page_post(alice_web, session, **cut_short(body, len(body)))
    assert response.status_code == 302
    assert WingmanSession.objects.get(pk=session.pk).notes == "Whole"


@pytest.mark.reliability("attack", "chunked request body")
def test_it_refuses_chunked_bodies_clearly(alice_api, alice_web, session, unchanged):
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(NOTES)}
    with unchanged():
        response = api_patch(alice_api, session, **chunked)
        assert_problem(response, 411, "length_required")
        chunked["wsgi.input"] = io.BytesIO(notes_form(session, "x"))
        page = assert_refused_page(page_post(alice_web, session, **chunked), 411)
    assert "chunked" in page


@pytest.mark.reliability("attack", "Content-Length not a number")
@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "0x10"])
def test_it_refuses_a_content_length_that_is_not_a_number(alice_api, session, unchanged, length):
    with unchanged():
        response = api_patch(alice_api, session, **cut_short(NOTES, 0) | {"CONTENT_LENGTH": length})
    assert_problem(response, 400, "invalid_content_length")


def test_it_keeps_the_413_for_oversized_bodies(alice_api, session, unchanged, settings):
    big = json.dumps({"notes": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}).encode()
    with unchanged():
        response = api_patch(alice_api, session, **cut_short(big[:100], len(big)))
    assert_problem(response, 413, "payload_too_large")


# --- a real gunicorn, a real socket ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_on_test_db(db):
    """gunicorn serving the project against pytest-django's test database.

    The tests using it are transactional (their rows are committed, so gunicorn sees them) with
    serialized_rollback, so the rows the migrations created survive for the tests after them.
    """
    require_or_skip(on_postgres(), "the gunicorn test shares the test database, which needs PostgreSQL",
                    "WINGMAN_REQUIRE_POSTGRES")
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DEBUG": "1",
        "PORT": str(port),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",  # no connection left open when pytest-django drops the test database
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "wingman.wsgi"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if probe.recv(64).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def raw_exchange(port: int, head: str, body: bytes, *, close_after: bool) -> bytes:
    """Send a request head and body over a raw socket; with close_after, shut the writing side down."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        if close_after:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.reliability("attack", "truncated request body")
def test_gunicorn_refuses_a_body_cut_off_by_a_dropped_connection(gunicorn_on_test_db, alice, session, unchanged,
                                                                   record_property):
    token = AccessToken.for_user(alice)
    body = json.dumps({"notes": "x" * 87}).encode()
    assert len(body) == 100
    head = (f"PATCH /api/sessions/{session.pk}/notes/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
            "Connection: close\r\n\r\n")
    with unchanged():
        answer = raw_exchange(gunicorn_on_test_db, head, body[:50], close_after=True)
    # the client only closed its sending side, so it still reads the refusal
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"application/problem+json" in answer and b"incomplete_body" in answer
    assert WingmanSession.objects.get(pk=session.pk).notes == ""
    status_line = answer.split(b"\r\n", 1)[0].decode() or "connection closed without an answer"
    record_property("reliability", f"50 of 100 bytes, then SHUT_WR: {status_line}; notes unchanged")

    # the same request, whole, is saved: the refusal above was about the cut, not the request
    answer = raw_exchange(gunicorn_on_test_db, head, body, close_after=False)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert WingmanSession.objects.get(pk=session.pk).notes == "x" * 87


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.reliability("attack", "chunked request body")
def test_gunicorn_refuses_a_chunked_body_clearly(gunicorn_on_test_db, alice, session, unchanged):
    token = AccessToken.for_user(alice)
    head = (f"PATCH /api/sessions/{session.pk}/notes/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n")
    with unchanged():
        answer = raw_exchange(gunicorn_on_test_db, head, f"{len(NOTES):x}\r\n".encode() + NOTES + b"\r\n0\r\n\r\n",
                              close_after=False)
    assert answer.startswith(b"HTTP/1.1 411"), answer[:300]
    assert b"length_required" in answer
