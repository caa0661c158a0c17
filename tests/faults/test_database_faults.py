"""The database failing under a real gunicorn: killed connections, a killed worker, a row lock held too long.

Every answer is 200/201/302 or a 503 with Retry-After, never a 500; the client
learns whether its write happened (a retry with the same Idempotency-Key, or a
look at the session, tells the truth); and the database is whole afterwards.
"""

import os
import signal
import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from sessions_app.models import SessionEvent, WingmanSession
from sessions_app.services import notes_digest
from tests.conftest import snapshot_db

from .conftest import (
    APP_NAME,
    assert_503_retry_after,
    assert_database_whole,
    connect_params,
    flashes,
    sent_as_asked,
    wait_until,
    warm_up,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SESSIONS = 12  # per face: each confirmed by both buddies while connections die
NOTES_WRITES = 20
NOTES_WRITES_MOST = 200  # saves go on past NOTES_WRITES until the killer has hit one (short writes can dodge it)
MAX_ATTEMPTS = 40
ANSWERS = {200, 201, 302, 503}  # done (the page redirects back), or "try again"; never a 500


class Tally:
    """What the clients were answered."""

    def __init__(self) -> None:
        self.statuses: list[int] = []

    def add(self, response: requests.Response, *, api: bool) -> requests.Response:
        self.statuses.append(response.status_code)
        assert response.status_code in ANSWERS, (response.status_code, response.text[:300])
        if response.status_code == 503:
            assert_503_retry_after(response, api=api)
        return response

    def summary(self) -> str:
        unavailable = self.statuses.count(503)
        other = sum(s >= 500 and s != 503 for s in self.statuses)
        return (f"{len(self.statuses)} requests: {len(self.statuses) - unavailable - other} × 2xx/3xx, "
                f"{unavailable} × 503 with Retry-After, {other} × other 5xx")


def until_answered(send, tally: Tally, *, api: bool) -> requests.Response:
    """Send, and send again while the answer is 503 (what a client told to retry does)."""
    for _ in range(MAX_ATTEMPTS):
        response = tally.add(send(), api=api)
        if response.status_code != 503:
            return response
    raise AssertionError(f"still 503 after {MAX_ATTEMPTS} attempts")


def read_session(client, session) -> dict:
    """The session as the API shows it now (retried: connections may still be dying)."""
    return until_answered(lambda: client.request("GET", f"/api/sessions/{session.pk}/"), Tally(), api=True).json()


# --- connections killed -------------------------------------------------------------------------


def confirm_api(client, session, key: str, tally: Tally) -> None:
    """Same Idempotency-Key on every retry: the answer is the one true outcome, done once."""
    response = until_answered(
        lambda: client.request("POST", f"/api/sessions/{session.pk}/confirm/", headers={"Idempotency-Key": key}),
        tally, api=True)
    assert response.status_code == 200, (response.status_code, response.text[:300])


def confirm_page(client, api_client, session, flag: str, tally: Tally) -> None:
    """A person on the page: on the 503 page they look at the session, and confirm again only if it's not done."""
    for _ in range(MAX_ATTEMPTS):
        response = tally.add(client.post_form(f"/sessions/{session.pk}/confirm/"), api=False)
        if response.status_code == 302:
            messages = flashes(response)
            assert any(m.startswith(("You confirmed", "Session completed.")) for m in messages), messages
            return
        if read_session(api_client, session)[flag]:
            return  # the 503 hid a confirmation that did happen; the page would now show it
    raise AssertionError("confirm page still 503")


@pytest.mark.reliability("fault", "database connections killed during confirms")
@pytest.mark.parametrize("face", ["api", "page"])
def test_confirms_while_connections_die(face, server, kill_connections, make_session, alice, bob, alice_api,
                                        bob_api, alice_page, bob_page, record_property):
    sessions = [make_session(starts_in=-timedelta(minutes=20)) for _ in range(SESSIONS)]
    tally = Tally()
    with kill_connections() as killer:
        for index, session in enumerate(sessions):
            if face == "api":
                confirm_api(alice_api, session, f"a-{index}", tally)
                confirm_api(bob_api, session, f"b-{index}", tally)
            else:
                confirm_page(alice_page, alice_api, session, "user2_completed_confirmed_by_user1", tally)
                confirm_page(bob_page, bob_api, session, "user1_completed_confirmed_by_user2", tally)
    # Every write's outcome is now known; the retries changed nothing more.
    assert WingmanSession.objects.filter(status="completed").count() == SESSIONS
    assert SessionEvent.objects.filter(kind="confirmed").count() == 2 * SESSIONS
    assert killer.killed > 0
    assert_database_whole(sessions, [alice, bob])
    record_property("reliability", f"{face}, {2 * SESSIONS} confirms: {tally.summary()}; "
                    f"{killer.killed} connections killed")


@pytest.mark.reliability("fault", "database connections killed during notes writes")
@pytest.mark.parametrize("face", ["api", "page"])
def test_notes_while_connections_die(face, server, kill_connections, session, alice, bob, alice_api, alice_page,
                                     record_property):
    tally = Tally()
    with kill_connections() as killer:
        index = 0
        while index < NOTES_WRITES or (killer.killed == 0 and index < NOTES_WRITES_MOST):
            index += 1
            text = f"line {index}"
            if face == "api":
                response = until_answered(lambda t=text, i=index: alice_api.request(
                    "PATCH", f"/api/sessions/{session.pk}/notes/", json={"notes": t},
                    headers={"Idempotency-Key": f"n-{i}"}), tally, api=True)
                assert response.status_code == 200 and response.json()["notes"] == text, response.text[:300]
                continue
            for _ in range(MAX_ATTEMPTS):
                now = read_session(alice_api, session)
                if now["notes"] == text:
                    break  # an earlier 503 hid a save that did happen
                response = tally.add(alice_page.post_form(f"/sessions/{session.pk}/notes/", {
                    "notes": text, "expected_version": now["version"], "base_digest": notes_digest(now["notes"])}),
                    api=False)
                if response.status_code == 302:
                    assert flashes(response) == ["Notes saved."], flashes(response)
                    break
            else:
                raise AssertionError("notes page still 503")
    session.refresh_from_db()
    assert session.notes == f"line {index}"
    assert SessionEvent.objects.filter(session=session, kind="notes_updated").count() == index
    assert session.version == 1 + index
    assert killer.killed > 0
    assert_database_whole([session], [alice, bob])
    record_property("reliability", f"{face}, {index} notes saves: {tally.summary()}; "
                    f"{killer.killed} connections killed")


# --- a worker killed mid-write -------------------------------------------------------------------


def backend_waiting_for_lock() -> int | None:
    """The client port of the server's database connection that waits for a row lock, if any."""
    import psycopg

    with psycopg.connect(**connect_params(), autocommit=True) as admin:
        row = admin.execute(
            "SELECT client_port FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
            [APP_NAME]).fetchone()
    return row[0] if row else None


def worker_owning(workers: list[int], local_port: int) -> int:
    """Which worker owns the TCP connection from ``local_port`` (via /proc/net/tcp inodes and its fds)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker owns the connection from port {local_port}")


@pytest.mark.reliability("fault", "gunicorn worker killed mid-write")
def test_a_worker_killed_mid_write(server, row_lock, make_session, alice, bob, alice_api, record_property):
    session = make_session(starts_in=-timedelta(minutes=20))
    answers: list = []

    def confirm():
        try:
            answers.append(alice_api.request("POST", f"/api/sessions/{session.pk}/confirm/",
                                             headers={"Idempotency-Key": "killed"}))
        except requests.ConnectionError as error:
            answers.append(error)

    # The 1.5 s below is for reaching the lock, not for a cold worker's first request: every worker reads,
    # and writes (notes of another session, over fresh connections), before the database is snapshotted.
    warm_up(session, alice_api)
    other = make_session(starts_in=timedelta(hours=2))
    for n in range(8):
        alice_api.http.close()
        answer = sent_as_asked(lambda n=n: alice_api.request(
            "PATCH", f"/api/sessions/{other.pk}/notes/", json={"notes": f"warming {n}"}))
        assert answer.status_code == 200, answer.text[:300]
    before = snapshot_db()
    with row_lock(session.pk):  # the write waits on the row lock, inside its transaction...
        writer = threading.Thread(target=confirm)
        writer.start()
        port = wait_until(backend_waiting_for_lock, timeout=1.5, what="the write to wait for the row lock",
                          interval=0.02)
        victim = worker_owning(server.workers(), port)
        os.kill(victim, signal.SIGKILL)  # ...when its worker dies
        writer.join(timeout=10)
    assert len(answers) == 1 and isinstance(answers[0], requests.ConnectionError), answers
    wait_until(lambda: victim not in server.workers() and len(server.workers()) == 2 and server.healthy(),
               timeout=60, what="gunicorn to replace the worker", interval=0.2)
    wait_until(lambda: backend_waiting_for_lock() is None, timeout=10, what="the dead worker's transaction to end")

    # The client could not be told; the database is as before, and a retry gets the true answer, once.
    assert snapshot_db() == before
    retry = alice_api.request("POST", f"/api/sessions/{session.pk}/confirm/", headers={"Idempotency-Key": "killed"})
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry.headers, retry.text[:300]
    again = alice_api.request("POST", f"/api/sessions/{session.pk}/confirm/", headers={"Idempotency-Key": "killed"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert SessionEvent.objects.filter(session=session, kind="confirmed").count() == 1
    assert_database_whole([session], [alice, bob])
    record_property("reliability", f"worker {victim} SIGKILLed while its confirm waited on a row lock: client saw "
                    f"the connection drop, nothing was stored, the retry with the same key confirmed once")


# --- a row lock held past the timeouts ------------------------------------------------------------

HOLD_SECONDS = 10
WRITERS = 3


@pytest.mark.reliability("fault", "row lock held past the timeouts")
def test_a_held_row_lock_is_a_quick_503(server, row_lock, make_session, alice, bob, alice_api, bob_api, alice_page,
                                        bob_page, record_property):
    due = make_session(starts_in=-timedelta(minutes=20))
    writes = {
        "API confirm": (True, lambda: alice_api.request("POST", f"/api/sessions/{due.pk}/confirm/",
                                                        headers={"Idempotency-Key": f"l-{time.monotonic()}"})),
        "API notes": (True, lambda: bob_api.request("PATCH", f"/api/sessions/{due.pk}/notes/",
                                                    json={"notes": "locked out"})),
        "page confirm": (False, lambda: bob_page.post_form(f"/sessions/{due.pk}/confirm/")),
        "page notes": (False, lambda: alice_page.post_form(f"/sessions/{due.pk}/notes/", {
            "notes": "locked out too", "expected_version": 1, "base_digest": notes_digest("")})),
    }
    answers: list[tuple[str, float, requests.Response]] = []
    health: list[float] = []
    warm_up(due, alice_api, bob_api, alice_page, bob_page)  # time the lock, not a cold worker
    before = snapshot_db()

    with row_lock(due.pk):
        deadline = time.monotonic() + HOLD_SECONDS

        def write(name: str) -> None:
            started = time.monotonic()
            response = writes[name][1]()
            answers.append((name, time.monotonic() - started, response))

        def keep_writing(offset: int):
            names = list(writes)
            while time.monotonic() < deadline - 2.5:
                write(names[offset % len(names)])
                offset += 1

        def keep_checking_health():
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert requests.get(server.url("/healthz"), timeout=5).status_code == 200
                health.append(time.monotonic() - started)
                time.sleep(0.1)

        checker = threading.Thread(target=keep_checking_health)
        checker.start()
        # First a writer alone: one lock wait, so lock_timeout (2 s) decides.
        for name in ("API confirm", "page notes"):
            write(name)
        lone = list(answers)
        # Then three writers at once, each cycling through the four kinds of write (three: fewer than a
        # worker's four threads, so no wait for a free thread hides in the figures).
        writers = [threading.Thread(target=keep_writing, args=(offset,)) for offset in range(WRITERS)]
        for thread in writers:
            thread.start()
        for thread in [*writers, checker]:
            thread.join(timeout=HOLD_SECONDS + 10)
        assert time.monotonic() < deadline + 1, "the lock was held longer than planned"

    assert snapshot_db() == before  # every refused write changed nothing
    for name, elapsed, response in answers:
        assert_503_retry_after(response, api=writes[name][0], code="database_busy" if writes[name][0] else None)
        # lock_timeout counts each lock wait on its own: a writer queued behind another waiter starts a
        # second wait when that one gives up, so under contention statement_timeout (5 s) is the bound.
        assert elapsed < 6.0, (name, elapsed)
    assert all(elapsed < 3.0 for _, elapsed, _ in lone), lone
    assert {name for name, _, _ in answers} == set(writes)
    assert len(health) >= 20 and max(health) < 1.0, max(health)
    crowd = [elapsed for _, elapsed, _ in answers[len(lone):]]

    # Once the lock is gone the same write goes through at once.
    done = alice_api.request("POST", f"/api/sessions/{due.pk}/confirm/", headers={"Idempotency-Key": "after"})
    assert done.status_code == 200, done.text[:300]
    assert_database_whole([due], [alice, bob])
    record_property("reliability", f"{HOLD_SECONDS} s lock: {len(answers)} writes (API and page, confirm and notes), "
                    f"all 503 with Retry-After; alone {', '.join(f'{e:.1f}' for _, e, _ in lone)} s; "
                    f"{WRITERS} at once median {statistics.median(crowd):.1f} s, slowest {max(crowd):.1f} s; "
                    f"/healthz {len(health)} × 200, median {statistics.median(health) * 1000:.0f} ms, "
                    f"slowest {max(health) * 1000:.0f} ms")
