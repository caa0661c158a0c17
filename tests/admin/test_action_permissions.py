"""Every moderation action is refused to everyone but moderators, and changes nothing."""

import pytest

from sessions_app.models import UserProfile
from tests.conftest import web_client

from .conftest import PROFILES, SESSIONS, act, messages_of

ACTIONS = [
    (SESSIONS, "cancel_sessions", {"apply": "1", "reason": "nope"}),
    (SESSIONS, "mark_no_show", {"apply": "1", "absent": "user1"}),
    (SESSIONS, "complete_sessions", {}),
    (SESSIONS, "rebuild_participants_reputation", {}),
    (PROFILES, "rebuild_reputation", {}),
]


def _targets(url, due_session, alice):
    if url == PROFILES:
        UserProfile.objects.filter(user=alice).update(reputation=77)  # drift a rebuild would repair
        return [UserProfile.objects.get(user=alice)]
    return [due_session]


@pytest.mark.parametrize(("url", "action", "data"), ACTIONS)
def test_it_refuses_staff_without_the_moderation_permission(viewer, due_session, alice, url, action, data, unchanged):
    targets = _targets(url, due_session, alice)
    with unchanged():
        response = act(web_client(viewer), url, action, targets, **data)
    # Without the permission the admin has no actions at all: the post just shows the list again.
    assert response.status_code == 200
    assert response.context["action_form"] is None


@pytest.mark.parametrize(("url", "action", "data"), ACTIONS)
def test_it_forbids_plain_staff(staff, due_session, alice, url, action, data, unchanged):
    targets = _targets(url, due_session, alice)
    with unchanged():
        assert act(web_client(staff), url, action, targets, **data).status_code == 403


@pytest.mark.parametrize("who", ["alice", "anonymous"])
@pytest.mark.parametrize(("url", "action", "data"), ACTIONS)
def test_it_sends_participants_and_strangers_to_the_login(request, due_session, alice, url, action, data, who,
                                                          unchanged):
    targets = _targets(url, due_session, alice)
    client = web_client(alice if who == "alice" else None)
    with unchanged():
        response = act(client, url, action, targets, **data)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(("url", "action", "data"), ACTIONS)
def test_it_lets_moderators_run_each_action(mod, due_session, alice, url, action, data):
    targets = _targets(url, due_session, alice)
    response = act(web_client(mod), url, action, targets, **data)
    assert response.status_code == 302
    assert not [m for m in messages_of(response) if m.startswith("Refused")]
