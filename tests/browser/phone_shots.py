"""Phone screenshots (375x812, what shows without scrolling) of the session page in three states, for
docs/screenshots/. Not collected by default (no test_ prefix); run it by path:

    WINGMAN_SHOTS=after .venv/bin/python -m pytest tests/browser/phone_shots.py -q -p no:cacheprovider
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from sessions_app import services
from tests.browser.conftest import PHONE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SUFFIX = os.environ.get("WINGMAN_SHOTS", "after")


def _states(make_session, alice, bob) -> dict:
    """Each state's session, made just before its screenshot: once alice runs one, she cannot check in to another."""

    def running():
        s = make_session(starts_in=-timedelta(minutes=5), venue_name="The Blue Door")
        services.session_check_in(session_id=s.pk, user=alice)
        return s

    def moved():
        s = make_session(starts_in=timedelta(days=2), venue_name="Green Park Kiosk")
        services.session_reschedule_propose(session_id=s.pk, user=bob,
                                            scheduled_time=timezone.now() + timedelta(days=3), venue_name="")
        return s

    return {"checkin": lambda: make_session(starts_in=timedelta(minutes=12), venue_name="Café Luna"),
            "in-progress": running, "reschedule": moved}


def test_phone_screenshots(live_server, new_page, alice, bob, make_session):
    states = _states(make_session, alice, bob)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, live_server, "alice")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, make in states.items():
        page.goto(f"{live_server.url}/sessions/{make().pk}/")
        page.screenshot(path=str(SHOTS / f"session-phone-{name}-{SUFFIX}.png"))
