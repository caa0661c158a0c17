"""Admin test helpers: URLs, a read-only staff member, and posting actions."""

import pytest
from django.contrib.auth.models import Permission, User

from sessions_app.models import ReputationLedger, SessionEvent

from ..conftest import PASSWORD, _user

SESSIONS = "/admin/sessions_app/wingmansession/"
PROFILES = "/admin/sessions_app/userprofile/"


def change_url(obj) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


@pytest.fixture
def viewer(db):
    """Staff who may look at sessions and profiles but holds no moderation permission."""
    user = _user("viewer", "Read Only", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_wingmansession", "change_wingmansession", "view_userprofile", "change_userprofile"]
        )
    )
    return user


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def history(session, alice, bob):
    """The session with one audit event and one ledger row, as the change page shows them."""
    SessionEvent.objects.create(session=session, actor=alice, kind="scheduled", data={"venue_name": "The Blue Door"})
    ReputationLedger.objects.create(user=bob, session=session, reason="late_cancel", points=-13)
    return session


def act(client, url: str, action: str, objects, **data):
    """POST an admin action for these objects (add apply=... to get past the intermediate page)."""
    payload = {"action": action, "_selected_action": [str(o.pk) for o in objects], **data}
    return client.post(url, payload)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]
