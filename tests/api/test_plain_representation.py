"""PlainRepresentation renders exactly what DRF's own Serializer.to_representation would.

The sessions go through the lifecycle with the services, so every part of
the body has a value in some state: check-ins, a running and a completed
session with confirmations, a lapsed and a pending reschedule, a late
cancellation with its penalty, a dispute.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from sessions_app import selectors, services
from sessions_app.api.serializers import (
    PlainRepresentation,
    SessionSerializer,
    SessionSummarySerializer,
    StatsSerializer,
)


def drf(serializer, instance):
    """DRF's own walk over the bound fields, for this serializer and every nested one."""
    plain = PlainRepresentation.to_representation
    PlainRepresentation.to_representation = serializers.Serializer.to_representation
    try:
        return serializers.Serializer.to_representation(serializer, instance)
    finally:
        PlainRepresentation.to_representation = plain


def both_ways(session, user) -> list[tuple]:
    session = selectors.session_get_for_participant(session_id=session.pk, user=user)
    context = {"user": user, "now": timezone.now()}
    pairs = []
    for serializer_class in (SessionSummarySerializer, SessionSerializer):
        serializer = serializer_class(context=context)
        pairs.append((serializer.to_representation(session), drf(serializer, session)))
    return pairs


def assert_same(session, *users):
    for user in users:
        for plain, theirs in both_ways(session, user):
            assert plain == theirs
            assert list(plain) == list(theirs)  # the same keys in the same order: the same JSON bytes


@pytest.fixture
def states(make_session, alice, bob):
    """One session per state worth showing, each reached through the services."""
    made = {"scheduled": make_session()}

    completed = make_session(starts_in=-timedelta(minutes=30))
    services.session_check_in(session_id=completed.pk, user=alice)
    services.session_check_in(session_id=completed.pk, user=bob)
    services.session_confirm(session_id=completed.pk, user=alice)
    services.session_confirm(session_id=completed.pk, user=bob)
    made["completed"] = completed

    disputed = make_session(starts_in=-timedelta(minutes=40))
    services.session_check_in(session_id=disputed.pk, user=alice)
    services.session_check_in(session_id=disputed.pk, user=bob)
    services.session_confirm(session_id=disputed.pk, user=alice)
    services.session_confirm(session_id=disputed.pk, user=bob)
    services.session_dispute(session_id=disputed.pk, user=bob, reason="We never met at the venue.")
    made["disputed"] = disputed

    late = make_session(starts_in=timedelta(minutes=30))
    services.session_cancel(session_id=late.pk, user=bob, reason="Train cancelled.")
    made["cancelled late"] = late

    moving = make_session(starts_in=timedelta(days=2))
    services.session_reschedule_propose(session_id=moving.pk, user=alice,
                                        scheduled_time=timezone.now() + timedelta(days=3), venue_name="The Red Door")
    made["reschedule pending"] = moving

    running = make_session(starts_in=-timedelta(minutes=5))  # last: one session in progress at a time
    services.session_check_in(session_id=running.pk, user=alice)
    made["running"] = running
    return made


@pytest.mark.parametrize("state", ["scheduled", "running", "completed", "disputed", "cancelled late",
                                   "reschedule pending"])
def test_the_body_is_drfs_own(states, state, alice, bob):
    assert_same(states[state], alice, bob)


def test_the_list_page_is_drfs_own(states, alice):
    page = list(selectors.session_list_for_user(user=alice)[:20])
    assert len(page) == len(states)
    context = {"user": alice, "now": timezone.now()}
    plain = SessionSummarySerializer(page, many=True, context=context).data
    serializer = SessionSummarySerializer(context=context)
    assert [dict(item) for item in plain] == [drf(serializer, session) for session in page]


def test_a_field_read_through_a_method_is_refused_when_planned():
    class Method(PlainRepresentation, serializers.Serializer):
        total = serializers.IntegerField(source="get_total")

        def get_total(self):
            return 1

    with pytest.raises(TypeError, match="reads attributes only"):
        Method().to_representation({"total": 1})


def test_the_stats_are_drfs_own(states, alice):
    stats = selectors.user_stats(user=alice)
    serializer = StatsSerializer()
    assert serializer.to_representation(stats) == drf(serializer, stats)
    assert list(serializer.to_representation(stats)) == list(drf(serializer, stats))
