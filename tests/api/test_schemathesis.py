"""Schemathesis over the whole OpenAPI schema, as alice, against seed_demo's data.

Every operation gets schema-valid (positive) and schema-breaking (negative)
cases; ids in paths and bodies are often swapped for real seeded ids (alice's
sessions and match, carol's session, active challenges) so that success paths
and refusals are reached, not only 404s. Any 5xx, undocumented status or
media type, or body that breaks the schema fails the test. Run with -s for
the summary. The same run from the command line, against a running server
(throttles raised so the run measures the API, not the rate limits):

    DEBUG=1 python manage.py seed_demo --password demo-pass-123
    DEBUG=1 THROTTLE_CONFIRM=10000/min THROTTLE_NOTES=10000/min python manage.py runserver 127.0.0.1:8000 &
    TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
        -d '{"username": "alice", "password": "demo-pass-123"}' http://127.0.0.1:8000/api/auth/token/ \
        | python -c 'import json, sys; print(json.load(sys.stdin)["access"])')
    schemathesis --config-file tests/api/schemathesis.toml run http://127.0.0.1:8000/api/schema/ \
        -H "Authorization: Bearer $TOKEN" --max-examples 25
"""

import logging
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.contrib.auth.models import User
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from sessions_app.models import ApproachChallenge, WingmanMatch, WingmanSession
from sessions_app.session_reads import EarlySessionReads

PASSWORD = "demo-pass-123"
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 12}
CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")  # shared with the CLI run
# Operations that end something for good, run as data["throwaway"] (their ids: the throwaway pair's match).
DESTRUCTIVE = {("POST", "/api/matches/{id}/block/"), ("DELETE", "/api/me/")}
HIGH_RATES = {"confirm": "10000/min", "notes": "10000/min", "token": "10000/min"}


@pytest.fixture
def quiet_4xx_logs():
    """4xx answers are the point here; keep 5xx (logged at ERROR) visible."""
    loggers = [logging.getLogger(name) for name in ("django.request", "wingman.request")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture
def in_thread_wsgi():
    """Serve the app as gunicorn does, in the test's own thread and transaction: no connection closing per
    request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield EarlySessionReads(get_wsgi_application())  # as wingman/wsgi.py serves it
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db):
    # pytest-django runs with DEBUG off; the test database is a throwaway one.
    call_command("seed_demo", password=PASSWORD, allow_production=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    alice = User.objects.get(username="alice")
    mine = WingmanSession.objects.filter(user1=alice) | WingmanSession.objects.filter(user2=alice)
    # Blocking ends a match for good: that operation runs as a throwaway pair's member, never on alice's match.
    throwaway = [User.objects.create_user(f"throwaway{n}", password=PASSWORD) for n in (1, 2)]
    throwaway_match = WingmanMatch.objects.create(user1=throwaway[0], user2=throwaway[1], status="accepted")
    return {
        "alice": alice,
        "throwaway": throwaway[0],
        "throwaway_match": str(throwaway_match.pk),
        "sessions": [str(pk) for pk in mine.values_list("pk", flat=True)],
        "outsider_sessions": [str(pk) for pk in WingmanSession.objects.exclude(pk__in=mine.values("pk"))
                              .values_list("pk", flat=True)],
        "matches": [str(pk) for pk in WingmanMatch.objects.values_list("pk", flat=True)],
        "alice_match": str(WingmanMatch.objects.get(user1=alice).pk),
        "challenges": [str(pk) for pk in ApproachChallenge.objects.filter(is_active=True).values_list("pk", flat=True)],
    }


def real_ids(data: dict, path: str) -> st.SearchStrategy:
    """Path and body ids to swap in: mostly real ones, sometimes whatever was generated."""
    if path == "/api/matches/{id}/block/":
        ids = [data["throwaway_match"]] * 3 + data["matches"]
    elif path.startswith("/api/matches/"):
        ids = data["matches"]
    else:
        ids = data["sessions"] * 3 + data["outsider_sessions"]
    return st.one_of(st.none(), st.sampled_from(ids))


def with_real_ids(case, data: dict, chosen: str | None, seeded_body: bool) -> None:
    if chosen is None:
        return
    for name in ("id", "session_id"):
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = chosen
    if seeded_body and isinstance(case.body, dict):
        replacements = {
            "session_id": chosen,
            "match_id": data["alice_match"],
            "user1_challenge_id": data["challenges"][0],
            "user2_challenge_id": data["challenges"][-1],
            "scheduled_time": (timezone.now() + timedelta(days=2)).isoformat(),
        }
        for key, value in replacements.items():
            if key in case.body:
                case.body[key] = value


class Tally:
    """What the run did: cases per operation, statuses seen, failures found."""

    def __init__(self):
        self.cases: Counter = Counter()
        self.statuses: Counter = Counter()
        self.failures: list[str] = []

    def fail(self, label: str, failure: BaseException) -> None:
        self.failures.append(f"{label}: {str(failure)[:1500]}")


def exercise(operation, mode: GenerationMode, examples: int, data: dict, headers: dict, tally: Tally) -> None:
    """Run one operation's cases of one mode; every failure is recorded, none stops the run."""
    label = f"{operation.method.upper()} {operation.path} [{mode.value}]"

    @given(case=operation.as_strategy(generation_mode=mode), chosen=real_ids(data, operation.path),
           seeded_body=st.booleans())
    @hypothesis_settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
    def run(case, chosen, seeded_body):
        if mode == GenerationMode.POSITIVE:  # a negative case must stay invalid
            with_real_ids(case, data, chosen, seeded_body)
        tally.cases[f"{operation.method.upper()} {operation.path}"] += 1
        try:
            response = case.call_and_validate(headers=headers)
        except (Exception, BaseExceptionGroup) as failure:
            tally.fail(label, failure)
            return
        tally.statuses[response.status_code] += 1

    try:
        run()
    except (Exception, BaseExceptionGroup) as failure:  # e.g. hypothesis finding no valid case
        tally.fail(label, failure)


def test_the_api_answers_as_its_schema_says(seeded, in_thread_wsgi, quiet_4xx_logs):
    config = SchemathesisConfig.from_path(CONFIG_FILE)
    tally = Tally()
    operations = 0
    started = time.monotonic()
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": HIGH_RATES}):
        schema = schemathesis.openapi.from_wsgi("/api/schema/", in_thread_wsgi, config=config)
        alice_api = {"Authorization": f"Bearer {AccessToken.for_user(seeded['alice'])}"}
        as_throwaway = {"Authorization": f"Bearer {AccessToken.for_user(seeded['throwaway'])}"}
        for result in schema.get_all_operations():
            operations += 1
            operation = result.ok()
            headers = as_throwaway if (operation.method.upper(), operation.path) in DESTRUCTIVE else alice_api
            for mode, examples in EXAMPLES.items():
                exercise(operation, mode, examples, seeded, headers, tally)
    elapsed = time.monotonic() - started

    print(f"\nschemathesis: {operations} operations, {sum(tally.cases.values())} cases, {len(tally.failures)} "
          f"failures, {elapsed:.1f} s; statuses {dict(sorted(tally.statuses.items()))}")
    for label, count in sorted(tally.cases.items()):
        print(f"  {count:4d}  {label}")
    assert operations >= 25
    assert not any(status >= 500 for status in tally.statuses)
    assert 201 in tally.statuses and 200 in tally.statuses  # success paths were reached, not only refusals
    assert not tally.failures, "\n\n".join(tally.failures[:15])
