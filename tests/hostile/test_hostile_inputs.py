"""The hostile-input suite: one row per kind of input a client should never get
anything but a clear refusal for, over the API's mutations and reads and the
pages' forms (login, schedule, notes, each session action, cancel, history).

Every row asserts a 4xx (never a 5xx), problem+json with a stable ``code``
under /api/, a readable page elsewhere, and a database left exactly as it
was. Each kind is counted in docs/RELIABILITY.md through its reliability
marker. Bodies that stop short of their Content-Length or come chunked are
also tested against a real gunicorn in test_request_bodies.py.
"""

import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import api_client

from .conftest import assert_problem

NOTES = "/api/sessions/{s}/notes/"
LEGACY_NOTES = "/api/session/{s}/notes"
SESSIONS = "/api/sessions/"
BIG = 300 * 1024  # over DATA_UPLOAD_MAX_MEMORY_SIZE (256 KiB)


@dataclass(frozen=True)
class Attack:
    kind: str  # the reliability name: one per kind of input
    case: str  # this row, in a few words
    send: Callable  # (world) -> response
    status: int | tuple[int, ...]


# --- how requests are sent -----------------------------------------------------------------


def api(who: str, method: str, path: str, body=None, *, raw: bytes | None = None,
        content_type: str = "application/json", **headers) -> Callable:
    """A request to the API as alice, carol or anon; ``body`` as JSON, or ``raw`` bytes as they are."""

    def send(world):
        client = getattr(world, who)
        data = raw if raw is not None else (b"" if body is None else json.dumps(filled(body, world)).encode())
        return client.generic(method, path.format(**world.ids), data, content_type=content_type, **headers)

    return send


def filled(value, world):
    """``value`` with {s}, {m}, {alice_id}... in its strings replaced by the ids of this test's objects."""
    if isinstance(value, str):
        return value.format(**world.ids)
    if isinstance(value, dict):
        return {key: filled(inner, world) for key, inner in value.items()}
    if isinstance(value, list):
        return [filled(inner, world) for inner in value]
    return value


def page(method: str, path: str, data=None, *, who: str = "browser", raw: bytes | None = None,
         content_type: str = "application/x-www-form-urlencoded", **headers) -> Callable:
    """A request to a page as a logged-in browser (alice), carol's browser, or one that checks CSRF."""

    def send(world):
        from urllib.parse import urlencode

        client = getattr(world, who)
        body = raw if raw is not None else urlencode(filled(data or {}, world)).encode()
        return client.generic(method, path.format(**world.ids), body, content_type=content_type, **headers)

    return send


def environ(who: str, method: str, path: str, body: bytes, **wsgi) -> Callable:
    """A request with a hand-made WSGI environ around ``body`` (truncated, chunked, odd lengths)."""

    def send(world):
        client = getattr(world, who)
        return client.generic(method, path.format(**world.ids), b"", **wsgi, **{"wsgi.input": io.BytesIO(body)})

    return send


def schedule_body(**overrides) -> Callable:
    """A valid scheduling body for alice, with some fields replaced by hostile ones."""

    def body(world):
        values = {
            "match_id": world.ids["m"], "venue_name": "The Blue Door",
            "scheduled_time": (timezone.now() + timedelta(days=1)).isoformat(),
            "user1_challenge_id": world.ids["c1"], "user2_challenge_id": world.ids["c2"],
        }
        values.update(filled(overrides, world))
        return values

    return body


def api_schedule(**overrides) -> Callable:
    def send(world):
        # serialized here (ensure_ascii) so that even a lone surrogate can be sent, as \ud800
        body = json.dumps(schedule_body(**overrides)(world)).encode()
        return world.alice.generic("POST", SESSIONS, body, content_type="application/json")

    return send


def page_schedule(**overrides) -> Callable:
    def send(world):
        values = {"match": world.ids["m"], "venue_name": "The Blue Door",
                  "scheduled_time": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
                  "my_challenge": world.ids["c1"], "buddy_challenge": world.ids["c2"]}
        values.update(overrides)
        return world.browser.post("/sessions/new/", values)

    return send


def nested(depth: int) -> bytes:
    return b'{"notes": ' + b"[" * depth + b"]" * depth + b"}"


HTMX = {"HTTP_HX_REQUEST": "true"}
ZERO = "00000000-0000-4000-8000-000000000000"

# --- the table -------------------------------------------------------------------------------

ATTACKS = [
    # sizes
    Attack("huge body", "API notes, 300 KiB", api("alice", "PATCH", NOTES, {"notes": "x" * BIG}), 413),
    Attack("huge body", "page notes, 300 KiB", page("POST", "/sessions/{s}/notes/", {"notes": "x" * BIG}), 400),
    Attack("huge body", "login, 300 KiB", page("POST", "/accounts/login/", {"username": "x" * BIG}, who="anon_page"),
           400),
    Attack("5,001-character notes", "API", api("alice", "PATCH", NOTES, {"notes": "n" * 5001}), 422),
    Attack("5,001-character notes", "original API path", api("alice", "PATCH", LEGACY_NOTES, {"notes": "n" * 5001}),
           422),
    Attack("5,001-character notes", "page (HTMX)",
           page("POST", "/sessions/{s}/notes/", {"notes": "n" * 5001, "expected_version": "1"}, **HTMX), 422),
    Attack("over-long fields", "API venue of 201 characters", api_schedule(venue_name="v" * 201), 422),
    Attack("over-long fields", "API cancel reason of 501 characters",
           api("alice", "POST", "/api/sessions/{s}/cancel/", {"reason": "r" * 501}), 422),
    Attack("over-long fields", "page venue of 201 characters", page_schedule(venue_name="v" * 201), 400),
    Attack("long header", "8 KiB Idempotency-Key",
           api("alice", "POST", "/api/sessions/{s}/check-in/", {}, HTTP_IDEMPOTENCY_KEY="k" * 8192), 422),
    Attack("long header", "64 KiB Authorization", api("anon", "PATCH", NOTES, {"notes": "x"},
                                                      HTTP_AUTHORIZATION="Bearer " + "a" * 65536), 401),
    # content types
    Attack("form-encoded body to a JSON endpoint", "API notes",
           api("alice", "PATCH", NOTES, raw=b"notes=hi", content_type="application/x-www-form-urlencoded"), 415),
    Attack("multipart body to a JSON endpoint", "API schedule",
           api("alice", "POST", SESSIONS, raw=b"--b\r\nContent-Disposition: form-data; name=\"venue_name\"\r\n\r\nx\r\n"
               b"--b--\r\n", content_type="multipart/form-data; boundary=b"), 415),
    Attack("text body to a JSON endpoint", "API notes",
           api("alice", "PATCH", NOTES, raw=b"hi", content_type="text/plain"), 415),
    Attack("XML body to a JSON endpoint", "API cancel",
           api("alice", "POST", "/api/sessions/{s}/cancel/", raw=b"<reason>x</reason>",
               content_type="application/xml"), 415),
    Attack("no content type", "API notes", api("alice", "PATCH", NOTES, raw=b'{"notes": "x"}', content_type=""), 415),
    Attack("JSON body to a page form", "page notes (HTMX)",
           page("POST", "/sessions/{s}/notes/", raw=b'{"notes": "x", "expected_version": 1}',
                content_type="application/json", **HTMX), 422),
    Attack("JSON body to a page form", "schedule page",
           page("POST", "/sessions/new/", raw=b'{"venue_name": "x"}', content_type="application/json"), 400),
    # encodings
    Attack("invalid UTF-8", "API notes", api("alice", "PATCH", NOTES, raw=b'{"notes": "\xff\xfe bad"}'), 422),
    Attack("odd charsets", "bz2 'charset' (a decompression bomb)",
           api("alice", "PATCH", NOTES, raw=b"BZh91AY&SY", content_type="application/json; charset=bz2_codec"),
           (415, 422)),
    Attack("odd charsets", "unknown charset", api("alice", "PATCH", NOTES, raw=b'{"notes": "x"}',
                                                  content_type="application/json; charset=klingon"), (415, 422)),
    Attack("UTF-16 JSON", "API notes", api("alice", "PATCH", NOTES, raw='{"notes": "hi"}'.encode("utf-16"),
                                           content_type="application/json"), 422),
    Attack("byte order mark", "API notes", api("alice", "PATCH", NOTES, raw=b'\xef\xbb\xbf{"notes": "hi"}'), 422),
    Attack("NUL byte", "raw NUL inside a JSON string", api("alice", "PATCH", NOTES, raw=b'{"notes": "a\x00b"}'), 422),
    Attack("NUL byte", "NUL in an id", api("alice", "GET", "/api/sessions/{s}%00/"), 422),
    Attack("overlong UTF-8", "overlong '<' in notes", api("alice", "PATCH", NOTES, raw=b'{"notes": "\xc0\xbc"}'), 422),
    Attack("lone surrogate", "escaped lone surrogate in notes",
           api("alice", "PATCH", NOTES, raw=b'{"notes": "a\\ud800b"}'), 422),
    Attack("lone surrogate", "escaped lone surrogate in a venue", api_schedule(venue_name="a\ud800b"), 422),
    # truncated, chunked, mislabelled bodies
    Attack("truncated request body", "API notes",
           environ("alice", "PATCH", NOTES, b'{"notes": "cut', CONTENT_TYPE="application/json", CONTENT_LENGTH="100"),
           400),
    Attack("truncated request body", "page cancel reason",
           environ("browser", "POST", "/sessions/{s}/cancel/", b"reason=ill", CONTENT_LENGTH="100",
                   CONTENT_TYPE="application/x-www-form-urlencoded"), 400),
    Attack("chunked request body", "API schedule",
           environ("alice", "POST", SESSIONS, b'{"venue_name": "x"}', CONTENT_TYPE="application/json",
                   HTTP_TRANSFER_ENCODING="chunked"), 411),
    Attack("chunked request body", "login page",
           environ("anon_page", "POST", "/accounts/login/", b"username=alice", HTTP_TRANSFER_ENCODING="chunked",
                   CONTENT_TYPE="application/x-www-form-urlencoded"), 411),
    Attack("Content-Length not a number", "API notes",
           environ("alice", "PATCH", NOTES, b'{"notes": 1}', CONTENT_TYPE="application/json", CONTENT_LENGTH="12abc"),
           400),
    # JSON shapes
    Attack("JSON array instead of an object", "API notes", api("alice", "PATCH", NOTES, ["notes", "x"]), 422),
    Attack("JSON nested 10,000 deep", "API notes", api("alice", "PATCH", NOTES, raw=nested(10_000)), 422),
    Attack("JSON null body", "API cancel", api("alice", "POST", "/api/sessions/{s}/cancel/", raw=b"null"), 422),
    Attack("JSON scalar body", "API notes, a bare number", api("alice", "PATCH", NOTES, raw=b"42"), 422),
    Attack("JSON scalar body", "API notes, a bare string", api("alice", "PATCH", NOTES, raw=b'"notes"'), 422),
    Attack("duplicate JSON keys", "API notes", api("alice", "PATCH", NOTES, raw=b'{"notes": "a", "notes": "b"}'), 422),
    Attack("duplicate JSON keys", "API confirm-completion",
           api("alice", "POST", "/api/session/confirm-completion", raw=b'{"session_id": "' + ZERO.encode()
               + b'", "session_id": "' + ZERO.encode() + b'"}'), 422),
    Attack("NaN and Infinity", "buddy id NaN", api("alice", "POST", "/api/sessions/{s}/confirm/",
                                                   raw=b'{"buddy_id": NaN}'), 422),
    Attack("NaN and Infinity", "absent user -Infinity", api("alice", "POST", "/api/sessions/{s}/no-show/",
                                                            raw=b'{"absent_user_id": -Infinity}'), 422),
    Attack("wrong JSON types", "notes as an object", api("alice", "PATCH", NOTES, {"notes": {"a": 1}}), 422),
    Attack("wrong JSON types", "reason as true", api("alice", "POST", "/api/sessions/{s}/cancel/", {"reason": True}),
           422),
    # numbers
    Attack("huge numbers", "buddy id 10^400", api("alice", "POST", "/api/sessions/{s}/confirm/",
                                                  raw=b'{"buddy_id": 1' + b"0" * 400 + b"}"), 422),
    Attack("huge numbers", "buddy id 2^63", api("alice", "POST", "/api/sessions/{s}/confirm/",
                                                {"buddy_id": 2**63}), 422),
    Attack("huge numbers", "offset 10^30", api("alice", "GET", SESSIONS + "?offset=" + "9" * 30), 422),
    Attack("fractional and negative numbers", "buddy id 1.5", api("alice", "POST", "/api/sessions/{s}/confirm/",
                                                                  {"buddy_id": 1.5}), 422),
    Attack("fractional and negative numbers", "limit -1", api("alice", "GET", SESSIONS + "?limit=-1"), 422),
    Attack("numbers as text", "buddy id '2'", api("alice", "POST", "/api/sessions/{s}/confirm/", {"buddy_id": "2"}),
           422),
    Attack("numbers as text", "fullwidth digits in limit", api("alice", "GET", SESSIONS + "?limit=%EF%BC%92"), 422),
    Attack("numbers as text", "page notes version 'x' (HTMX)",
           page("POST", "/sessions/{s}/notes/", {"notes": "x", "expected_version": "x"}, **HTMX), 422),
    # dates
    Attack("invalid dates", "month 13", api_schedule(scheduled_time="2027-13-45T25:61:00Z"), 422),
    Attack("invalid dates", "history filter 30 February", api("alice", "GET", SESSIONS + "?date_from=2027-02-30"), 422),
    Attack("invalid dates", "schedule page, not a date", page_schedule(scheduled_time="tomorrow-ish"), 400),
    Attack("invalid dates", "history page 30 February", page("GET", "/sessions/?date_from=2027-02-30"), 422),
    Attack("invalid dates", "history fragment, year 99999",
           page("GET", "/sessions/?date_to=99999-01-01", **HTMX), 422),
    Attack("far past dates", "year 1", api_schedule(scheduled_time="0001-01-01T00:00:00+00:00"), (400, 422)),
    Attack("far past dates", "schedule page, year 1", page_schedule(scheduled_time="0001-01-01T00:00"), 400),
    Attack("far future dates", "year 9999", api_schedule(scheduled_time="9999-12-31T23:59:59+00:00"), (400, 422)),
    Attack("far future dates", "history filter year 99999",
           api("alice", "GET", SESSIONS + "?date_to=99999-01-01"), 422),
    Attack("dates without an offset", "naive time", api_schedule(scheduled_time="2030-01-01T10:00:00"), 422),
    Attack("impossible offsets", "+25:00", api_schedule(scheduled_time="2030-01-01T10:00:00+25:00"), 422),
    # ids
    Attack("ids that are not UUIDs", "API session", api("alice", "GET", "/api/sessions/1/"), 422),
    Attack("ids that are not UUIDs", "API original path", api("alice", "GET", "/api/session/not-a-uuid"), 422),
    Attack("path traversal", "API original path", api("alice", "GET", "/api/session/..%2F..%2Fetc%2Fpasswd"), 404),
    Attack("path traversal", "page", page("GET", "/sessions/..%2F..%2Fadmin%2F"), 404),
    Attack("ids that are not UUIDs", "body session id", api("alice", "POST", "/api/session/confirm-completion",
                                                            {"session_id": "1 OR 1=1"}), 422),
    Attack("ids that are not UUIDs", "page session", page("GET", "/sessions/not-a-uuid/"), 404),
    Attack("ids that are not UUIDs", "schedule page match", page_schedule(match="1; DROP TABLE x"), 400),
    Attack("unknown UUIDs", "API session", api("alice", "GET", f"/api/sessions/{ZERO}/"), 404),
    Attack("unknown UUIDs", "API match", api("alice", "GET", f"/api/matches/{ZERO}/"), 404),
    Attack("unknown UUIDs", "API schedule with an unknown challenge", api_schedule(user1_challenge_id=ZERO),
           (404, 422)),
    Attack("unknown UUIDs", "page action", page("POST", f"/sessions/{ZERO}/check-in/"), 404),
    Attack("other users' objects", "carol reads alice+bob's session", api("carol", "GET", "/api/sessions/{s}/"), 403),
    Attack("other users' objects", "carol reads their timeline", api("carol", "GET", "/api/sessions/{s}/events/"),
           403),
    Attack("other users' objects", "carol reads their match", api("carol", "GET", "/api/matches/{m}/"), 403),
    Attack("other users' objects", "carol edits their notes", api("carol", "PATCH", NOTES, {"notes": "mine"}), 403),
    Attack("other users' objects", "carol confirms in their session",
           api("carol", "POST", "/api/session/confirm-completion", {"session_id": "{s}"}), (403, 404)),
    Attack("other users' objects", "carol schedules on their match",
           lambda w: w.carol.post(SESSIONS, schedule_body()(w), format="json"), 403),
    Attack("other users' objects", "carol cancels on the page", page("POST", "/sessions/{s}/cancel/",
                                                                     {"reason": "x"}, who="carol_page"), 403),
    Attack("other users' objects", "carol checks in on the page", page("POST", "/sessions/{s}/check-in/",
                                                                       who="carol_page"), 403),
    Attack("other users' objects", "carol saves notes on the page",
           page("POST", "/sessions/{s}/notes/", {"notes": "x", "expected_version": "1"}, who="carol_page"), 403),
    *[Attack("other users' objects", f"carol posts {action} on the page",
             page("POST", f"/sessions/{{s}}/{action}/", who="carol_page"), 403)
      for action in ("start", "pause", "resume", "confirm", "no-show")],
    *[Attack("other users' objects", f"carol posts {action} to the API",
             api("carol", "POST", f"/api/sessions/{{s}}/{action}/", {"reason": "spite"} if action == "cancel" else {}),
             403)
      for action in ("check-in", "start", "pause", "resume", "confirm", "no-show", "cancel")],
    Attack("other users' objects", "alice names carol as the absent buddy",
           api("alice", "POST", "/api/sessions/{s}/no-show/", {"absent_user_id": "{carol_id}"}), 422),
    # verbs
    Attack("PUT on a route", "API notes", api("alice", "PUT", NOTES, {"notes": "x"}), 405),
    Attack("PUT on a route", "API session", api("alice", "PUT", "/api/sessions/{s}/", {}), 405),
    Attack("DELETE on a route", "API session", api("alice", "DELETE", "/api/sessions/{s}/"), 405),
    Attack("DELETE on a route", "API match", api("alice", "DELETE", "/api/matches/{m}/"), 405),
    Attack("DELETE on a route", "page session", page("DELETE", "/sessions/{s}/"), 405),
    Attack("OPTIONS on a route", "API sessions", api("alice", "OPTIONS", SESSIONS), 405),
    Attack("OPTIONS on a route", "API notes", api("alice", "OPTIONS", NOTES), 405),
    Attack("OPTIONS on a route", "page action", page("OPTIONS", "/sessions/{s}/cancel/"), 405),
    Attack("TRACE on a route", "API session", api("alice", "TRACE", "/api/sessions/{s}/"), 405),
    Attack("TRACE on a route", "page history", page("TRACE", "/sessions/"), 405),
    Attack("GET on a mutation", "API check-in", api("alice", "GET", "/api/sessions/{s}/check-in/"), 405),
    Attack("GET on a mutation", "page cancel", page("GET", "/sessions/{s}/cancel/"), 405),
    Attack("POST on a read", "API me", api("alice", "POST", "/api/me/", {}), 405),
    Attack("POST on a read", "page history filters", page("POST", "/sessions/", {"status": "completed"}), 405),
    # headers
    Attack("bad If-Match", "garbage", api("alice", "PATCH", NOTES, {"notes": "x"}, HTTP_IF_MATCH='"garbage"'), 412),
    Attack("bad If-Match", "version 0", api("alice", "PATCH", NOTES, {"notes": "x"}, HTTP_IF_MATCH="0"), 412),
    Attack("bad If-Match", "a huge version", api("alice", "PATCH", NOTES, {"notes": "x"},
                                                 HTTP_IF_MATCH="9" * 40), 412),
    Attack("bad Idempotency-Key", "control characters",
           api("alice", "POST", "/api/sessions/{s}/check-in/", {}, HTTP_IDEMPOTENCY_KEY="a\tb"), 422),
    Attack("bad Idempotency-Key", "emoji", api("alice", "POST", "/api/sessions/{s}/check-in/", {},
                                               HTTP_IDEMPOTENCY_KEY="key-🎉"), 422),
    Attack("bad Idempotency-Key", "empty", api("alice", "PATCH", NOTES, {"notes": "x"}, HTTP_IDEMPOTENCY_KEY=""),
           422),
    Attack("bad Authorization", "not a JWT", api("anon", "PATCH", NOTES, {"notes": "x"},
                                                 HTTP_AUTHORIZATION="Bearer not.a.jwt"), 401),
    Attack("bad Authorization", "alg none", api("anon", "PATCH", NOTES, {"notes": "x"},
                                                HTTP_AUTHORIZATION="Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoxfQ."),
           401),
    Attack("bad Authorization", "Basic credentials", api("anon", "PATCH", NOTES, {"notes": "x"},
                                                         HTTP_AUTHORIZATION="Basic YWxpY2U6eA=="), 401),
    Attack("forged X-Test-User-ID", "anonymous client names alice",
           api("anon", "PATCH", NOTES, {"notes": "x"}, HTTP_X_TEST_USER_ID="{alice_id}"), 401),
    Attack("forged X-Test-User-ID", "carol names alice",
           api("carol", "PATCH", NOTES, {"notes": "x"}, HTTP_X_TEST_USER_ID="{alice_id}"), 403),
    Attack("unacceptable Accept", "XML only", api("alice", "GET", "/api/sessions/{s}/", HTTP_ACCEPT="application/xml"),
           406),
    Attack("forged Host", "API", api("alice", "PATCH", NOTES, {"notes": "x"}, HTTP_HOST="evil.example"), 400),
    Attack("forged Host", "page", page("POST", "/sessions/{s}/notes/", {"notes": "x", "expected_version": "1"},
                                       HTTP_HOST="evil.example"), 400),
    Attack("missing CSRF token", "page notes", page("POST", "/sessions/{s}/notes/",
                                                    {"notes": "x", "expected_version": "1"}, who="csrf_page"), 403),
    Attack("missing CSRF token", "login", page("POST", "/accounts/login/", {"username": "alice", "password": "x"},
                                               who="csrf_anon_page"), 403),
    Attack("missing CSRF token", "API with the session cookie", api("csrf_api", "PATCH", NOTES, {"notes": "x"}), 403),
    # unicode
    Attack("RTL override", "in a session id", api("alice", "GET", "/api/sessions/{s}%E2%80%AE/"), 422),
    Attack("RTL override", "in a status filter", api("alice", "GET", SESSIONS + "?status=%E2%80%AEdetelpmoc"), 422),
    Attack("zero-width characters", "in a UUID in the body",
           api("alice", "POST", "/api/session/confirm-completion", {"session_id": "\u200b{s}"}), 422),
    Attack("zero-width characters", "in the ordering", api("alice", "GET", SESSIONS + "?ordering=%E2%80%8Bnewest"),
           422),
    Attack("emoji where a token belongs", "in a status filter", api("alice", "GET", SESSIONS + "?status=%F0%9F%8E%89"),
           422),
    Attack("emoji where a token belongs", "in the history page's status filter",
           page("GET", "/sessions/?status=%F0%9F%8E%89"), 422),
    Attack("RTL override", "in the history page's buddy filter", page("GET", "/sessions/?match=%E2%80%AE{m}"), 422),
    Attack("surrogates in a query", "lone surrogate escape in a filter",
           api("alice", "GET", SESSIONS + "?match=%ED%A0%80"), 422),
]


PARAMS = [pytest.param(attack, id=f"{attack.kind}: {attack.case}", marks=pytest.mark.reliability("attack", attack.kind))
          for attack in ATTACKS]


@pytest.fixture
def world(alice, bob, carol, dave, match, carol_match, session, easy_challenge, hard_challenge):
    def browser(user=None, *, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        if user is not None:
            client.force_login(user)
        return client

    return SimpleNamespace(
        alice=api_client(alice), carol=api_client(carol), anon=APIClient(), csrf_api=browser(alice, csrf=True),
        browser=browser(alice), carol_page=browser(carol), anon_page=browser(),
        csrf_page=browser(alice, csrf=True), csrf_anon_page=browser(csrf=True),
        ids={"s": str(session.pk), "m": str(match.pk), "c1": str(easy_challenge.pk), "c2": str(hard_challenge.pk),
             "alice_id": str(alice.pk), "carol_id": str(carol.pk)},
    )


@pytest.mark.parametrize("attack", PARAMS)
def test_it_refuses_hostile_input_and_changes_nothing(attack: Attack, world, unchanged, record_property):
    with unchanged():
        response = attack.send(world)
    allowed = attack.status if isinstance(attack.status, tuple) else (attack.status,)
    assert response.status_code in allowed, (response.status_code, response.content[:400])
    path = response.wsgi_request.path if hasattr(response, "wsgi_request") else ""
    if path.startswith("/api/"):
        assert_problem(response, response.status_code)
    else:
        assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    record_property("reliability", f"{attack.case}: {response.status_code}")


def test_the_suite_covers_at_least_40_kinds():
    kinds = {attack.kind for attack in ATTACKS}
    assert len(kinds) >= 40, len(kinds)
    assert len({(a.kind, a.case) for a in ATTACKS}) == len(ATTACKS), "two rows with the same name"


def test_it_answers_422_to_random_malformed_ids(world, unchanged):
    """A spot check beside the table: fifty random non-UUID ids are all 422, never 500."""
    with unchanged():
        for _ in range(50):
            response = world.alice.get(f"/api/sessions/{uuid.uuid4().hex[:31]}/")
            assert_problem(response, 422)
