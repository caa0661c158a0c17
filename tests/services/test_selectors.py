"""Selectors: reads scoped to the user, history filters, current session, statistics, never-stale cached reads."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import selectors, services
from sessions_app.errors import InvalidInput, NotFound, NotParticipant
from sessions_app.forms import HistoryFilterForm
from sessions_app.selectors import SessionFilters


@pytest.fixture
def history(make_session, carol_match, alice_dave_match, alice, bob):
    """alice's sessions: two with bob (one completed), one with dave; carol and dave have one of their own."""
    now = timezone.now()
    return {
        "done": make_session(starts_in=-timedelta(days=3), status="completed", completed_at=now),
        "next": make_session(starts_in=timedelta(days=1)),
        "with_dave": make_session(of_match=alice_dave_match, starts_in=timedelta(days=5), status="cancelled"),
        "theirs": make_session(of_match=carol_match, starts_in=timedelta(days=2)),
    }


def listed(user, **filters) -> list:
    return list(selectors.session_list_for_user(user=user, filters=SessionFilters(**filters)))


def test_the_list_holds_only_the_users_sessions(history, alice, bob, carol):
    assert [s.pk for s in listed(alice)] == [history[k].pk for k in ("with_dave", "next", "done")]
    assert {s.pk for s in listed(bob)} == {history["next"].pk, history["done"].pk}
    assert [s.pk for s in listed(carol)] == [history["theirs"].pk]


def test_the_list_filters(history, alice, match):
    assert [s.pk for s in listed(alice, status="completed")] == [history["done"].pk]
    assert [s.pk for s in listed(alice, completed=True)] == [history["done"].pk]
    assert {s.pk for s in listed(alice, completed=False)} == {history["next"].pk, history["with_dave"].pk}
    assert {s.pk for s in listed(alice, match_id=match.pk)} == {history["done"].pk, history["next"].pk}
    today = timezone.now().date()
    assert [s.pk for s in listed(alice, date_from=today)] == [history["with_dave"].pk, history["next"].pk]
    assert [s.pk for s in listed(alice, date_to=today)] == [history["done"].pk]
    assert [s.pk for s in listed(alice, ordering="scheduled_time")][0] == history["done"].pk


def test_list_items_leave_out_the_notes_and_need_two_queries(history, alice, django_assert_num_queries):
    with django_assert_num_queries(2):  # the page, then every participant on it with the profile
        items = listed(alice)
        names = [(s.user1.profile.display_name, s.user2.profile.display_name) for s in items]
    assert ("Alice", "Dave") in names
    assert "notes" in items[0].get_deferred_fields()


def parse(params: dict, **options) -> SessionFilters:
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    query.update(params)
    return HistoryFilterForm(query, user=None, **options).filters()


def test_filters_are_parsed_from_query_parameters(match):
    parsed = parse(
        {"status": "completed", "match": str(match.pk), "date_from": "2026-01-01", "completed": "False",
         "ordering": "created_at"}
    )
    assert parsed.status == "completed" and parsed.match_id == match.pk and parsed.completed is False
    assert parsed.ordering == "created_at" and str(parsed.date_from) == "2026-01-01"


def test_bad_filters_are_named_together(db):
    with pytest.raises(InvalidInput) as refusal:
        parse({"status": "bogus", "match": "x", "date_from": "yesterday", "completed": "maybe", "ordering": "venue"})
    assert set(refusal.value.fields) == {"status", "match", "date_from", "completed", "ordering"}


def test_empty_filters_mean_any_on_the_page_and_are_refused_on_the_api(db):
    assert parse({"status": "", "match": "", "completed": ""}) == SessionFilters()
    with pytest.raises(InvalidInput) as refusal:
        parse({"status": "", "match": " "}, blank_allowed=False)
    assert set(refusal.value.fields) == {"status", "match"}


def test_current_prefers_the_session_in_progress(make_session, running_session, alice):
    make_session(starts_in=timedelta(hours=1))
    assert selectors.session_current_for_user(user=alice).pk == running_session.pk


def test_current_is_else_the_next_scheduled(make_session, alice, carol):
    make_session(starts_in=-timedelta(hours=49))  # stale, not current
    make_session(starts_in=-timedelta(hours=1), status="cancelled")
    later = make_session(starts_in=timedelta(days=2))
    sooner = make_session(starts_in=timedelta(hours=1))
    assert selectors.session_current_for_user(user=alice).pk == sooner.pk
    assert later.pk != sooner.pk
    assert selectors.session_current_for_user(user=carol) is None


def test_stats_come_from_the_counters(make_session, due_session, alice, bob, django_assert_num_queries):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    cancelled = make_session(starts_in=timedelta(days=1))
    services.session_cancel(session_id=cancelled.pk, user=alice, reason="Busy")
    signed_in = selectors.user_with_profile(alice.pk)  # as authentication loads the user for each request
    with django_assert_num_queries(0):
        stats = selectors.user_stats(user=signed_in)
    assert stats == {
        "total_sessions": 2,
        "completed_sessions": 1,
        "cancelled_sessions": 1,
        "no_show_sessions": 0,
        "completion_rate_percent": 50.0,
        "total_active_seconds": 0,
        "average_duration_seconds": 0,
        "reputation": 10,
        "weekly_streak": 1,
    }


def test_stats_of_a_user_without_profile_are_zero(db, django_user_model):
    stats = selectors.user_stats(user=django_user_model.objects.create_user(username="new"))
    assert stats["completion_rate_percent"] == 0.0 and stats["reputation"] == 0 and stats["weekly_streak"] == 0


def test_a_participant_gets_the_session_and_an_outsider_does_not(session, alice, carol):
    assert selectors.session_get_for_participant(session_id=session.pk, user=alice).pk == session.pk
    with pytest.raises(NotParticipant):
        selectors.session_get_for_participant(session_id=session.pk, user=carol)
    with pytest.raises(NotFound):
        selectors.session_get_for_participant(session_id=uuid.uuid4(), user=alice)


def test_a_cached_read_is_never_stale_after_a_write(session, alice, bob):
    selectors.session_get_for_participant(session_id=session.pk, user=alice)
    services.notes_update(session_id=session.pk, user=bob, notes="new plan")
    assert selectors.session_get_for_participant(session_id=session.pk, user=alice).notes == "new plan"


def test_events_come_oldest_first(running_session, alice, bob):
    services.session_pause(session_id=running_session.pk, user=alice)
    services.session_resume(session_id=running_session.pk, user=bob)
    kinds = [(e.kind, e.actor.username) for e in selectors.session_events(session=running_session)]
    assert kinds == [("paused", "alice"), ("resumed", "bob")]


def test_matches_are_scoped_to_the_user(match, carol_match, alice, carol):
    assert [m.pk for m in selectors.match_list_for_user(user=alice)] == [match.pk]
    assert selectors.match_get_for_user(match_id=match.pk, user=alice).pk == match.pk
    with pytest.raises(NotParticipant):
        selectors.match_get_for_user(match_id=match.pk, user=carol)
    with pytest.raises(NotFound):
        selectors.match_get_for_user(match_id=uuid.uuid4(), user=alice)


def test_only_active_challenges_are_listed(easy_challenge, hard_challenge):
    hard_challenge.is_active = False
    hard_challenge.save()
    assert list(selectors.challenge_list_active()) == [easy_challenge]


def test_a_cached_read_shows_a_renamed_participant(session, alice, bob, django_capture_on_commit_callbacks):
    selectors.session_get_for_participant(session_id=session.pk, user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_update(user=bob, display_name="Robert")
    read = selectors.session_get_for_participant(session_id=session.pk, user=alice)
    assert read.user2.profile.display_name == "Robert"
