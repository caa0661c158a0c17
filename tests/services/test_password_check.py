"""password_check: the one path for any endpoint that asks for a password (sessions_app/logins.py)."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from rest_framework.request import Request

from sessions_app.logins import password_check
from tests.conftest import PASSWORD


def request(address="203.0.113.1"):
    return RequestFactory().post("/api/me/erase/", REMOTE_ADDR=address)


def test_it_returns_the_user_for_the_right_password(alice):
    assert password_check(request=request(), username="alice", password=PASSWORD) == alice
    assert password_check(request=request(), username="alice", password="nope") is None
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 1


@pytest.mark.reliability("attack", "password guessing through any password check")
def test_it_counts_toward_the_login_limits_and_marks_the_django_request(alice):
    for _ in range(10):
        password_check(request=Request(request()), username="alice", password="nope")
    locked = request("198.51.100.1")
    drf_request = Request(locked)
    assert password_check(request=drf_request, username="alice", password=PASSWORD) is None
    # The mark lands on the Django request, where axes' middleware looks for it.
    assert locked.axes_locked_out is True
