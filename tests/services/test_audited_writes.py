"""Writes without a session (a display name, a match's status) are audited and checked too."""

import pytest

from sessions_app import services
from sessions_app.errors import Conflict, InvalidInput, NotParticipant
from sessions_app.models import SessionEvent, WingmanMatch


def audit(**subject) -> list[tuple]:
    return list(SessionEvent.objects.filter(**subject).order_by("id").values_list("kind", "actor_id", "data"))


def test_a_profile_update_is_audited_with_who_and_what(alice, mod):
    services.profile_update(user=alice, actor=mod, display_name="Ali", timezone_name="Asia/Tokyo")
    assert audit(subject_user=alice) == [
        ("profile_updated", mod.pk, {"display_name": {"from": "Alice", "to": "Ali"},
                                     "timezone": {"from": "Europe/Berlin", "to": "Asia/Tokyo"}}),
    ]


def test_an_update_that_changes_nothing_writes_nothing(alice):
    services.profile_update(user=alice, display_name="Alice")
    assert audit(subject_user=alice) == []


def test_a_bad_time_zone_is_refused_and_nothing_is_written(alice, unchanged):
    with unchanged(), pytest.raises(InvalidInput):
        services.profile_update(user=alice, display_name="Ali", timezone_name="Mars/Olympus")


def test_a_moderator_changes_a_match_status_audited(match, mod):
    services.match_set_status(match_id=match.pk, moderator=mod, status="ended")
    assert WingmanMatch.objects.get(pk=match.pk).status == "ended"
    assert audit(match=match) == [("match_status_changed", mod.pk, {"from": "accepted", "to": "ended"})]


def test_a_match_with_open_sessions_keeps_its_status(session, match, mod, unchanged):
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.match_set_status(match_id=match.pk, moderator=mod, status="ended")
    assert refusal.value.code == "match_has_open_sessions"


def test_only_moderators_change_a_match(match, alice, unchanged):
    with unchanged(), pytest.raises(NotParticipant):
        services.match_set_status(match_id=match.pk, moderator=alice, status="ended")
