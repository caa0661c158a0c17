"""Who can open which admin page: moderators see everything, the rest nothing."""

import pytest

from sessions_app.models import ReputationLedger, SessionEvent, UserProfile
from tests.conftest import web_client

from .conftest import change_url

CHANGELISTS = ["wingmansession", "wingmanmatch", "approachchallenge", "userprofile", "sessionevent",
               "reputationledger"]


@pytest.fixture
def objects(history, match, easy_challenge, alice):
    return {
        "wingmansession": history,
        "wingmanmatch": match,
        "approachchallenge": easy_challenge,
        "userprofile": UserProfile.objects.get(user=alice),
        "sessionevent": SessionEvent.objects.get(session=history),
        "reputationledger": ReputationLedger.objects.get(session=history),
    }


@pytest.mark.parametrize("model", CHANGELISTS)
def test_it_shows_each_changelist_to_moderators(mod, objects, model, django_assert_max_num_queries):
    client = web_client(mod)
    client.get(f"/admin/sessions_app/{model}/")  # warm: content types are cached from then on
    with django_assert_max_num_queries(5):  # user, permissions x2, bounded count, the page
        response = client.get(f"/admin/sessions_app/{model}/")
    assert response.status_code == 200
    assert objects[model] in response.context["cl"].result_list


@pytest.mark.parametrize("model", CHANGELISTS)
def test_it_shows_each_change_page_to_moderators(mod, objects, model, django_assert_max_num_queries):
    client = web_client(mod)
    client.get(change_url(objects[model]))
    with django_assert_max_num_queries(6):  # user, permissions x2, the row (+ related rows or inlines)
        response = client.get(change_url(objects[model]))
    assert response.status_code == 200


@pytest.mark.parametrize("model", CHANGELISTS)
def test_it_forbids_plain_staff(staff, objects, model, unchanged):
    client = web_client(staff)
    with unchanged():
        assert client.get(f"/admin/sessions_app/{model}/").status_code == 403
        assert client.get(change_url(objects[model])).status_code == 403


@pytest.mark.parametrize("who", ["alice", "anonymous"])
@pytest.mark.parametrize("model", CHANGELISTS)
def test_it_sends_participants_and_strangers_to_the_login(request, objects, model, who, unchanged):
    client = web_client(request.getfixturevalue(who) if who != "anonymous" else None)
    with unchanged():
        for url in (f"/admin/sessions_app/{model}/", change_url(objects[model])):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")


def test_it_shows_the_whole_session_on_its_page(mod, history, django_assert_max_num_queries):
    history.notes = "Met at the bar, <b>great</b> evening"
    history.user1_checked_in_at = history.scheduled_time
    history.user2_completed_confirmed_by_user1 = True
    history.save()
    client = web_client(mod)
    client.get(change_url(history))
    with django_assert_max_num_queries(6):  # user, permissions x2, session with everyone, events, ledger
        response = client.get(change_url(history))
    page = response.content.decode()
    # participants with names and e-mails
    assert "alice · Alice · alice@example.com" in page
    assert "bob · Bob · bob@example.com" in page
    # snapshots, notes (escaped), event timeline and ledger inline
    assert "Ask for a recommendation" in page and "Start a group conversation" in page
    assert "Met at the bar, &lt;b&gt;great&lt;/b&gt; evening" in page
    assert "Event timeline (audit log)" in page and "Scheduled" in page
    assert "Reputation ledger" in page and "-13" in page
    # read-only: no save button, no form inputs for lifecycle fields
    assert 'name="_save"' not in page
    assert 'name="status"' not in page
    assert 'name="notes"' not in page


def test_it_shows_moderation_buttons_only_to_moderators(mod, viewer, session):
    page = web_client(mod).get(change_url(session)).content.decode()
    for action in ("cancel_sessions", "mark_no_show", "complete_sessions", "rebuild_participants_reputation"):
        assert f'value="{action}"' in page
    page = web_client(viewer).get(change_url(session)).content.decode()
    assert 'value="cancel_sessions"' not in page


def test_it_offers_actions_only_to_moderators(mod, viewer, session):
    choices = dict(web_client(mod).get("/admin/sessions_app/wingmansession/").context["action_form"].fields[
        "action"].choices)
    assert {"cancel_sessions", "mark_no_show", "complete_sessions", "rebuild_participants_reputation"} <= set(choices)
    assert "delete_selected" not in choices
    response = web_client(viewer).get("/admin/sessions_app/wingmansession/")
    assert response.status_code == 200
    assert response.context["action_form"] is None or "cancel_sessions" not in dict(
        response.context["action_form"].fields["action"].choices
    )


def test_it_never_saves_a_session_form(mod, root, session, unchanged):
    for user in (mod, root):
        with unchanged():
            response = web_client(user).post(change_url(session), {"status": "completed", "notes": "edited"})
            assert response.status_code == 403


@pytest.mark.parametrize("model", ["sessionevent", "reputationledger"])
def test_it_keeps_the_audit_tables_read_only_even_for_superusers(root, objects, model, unchanged):
    client = web_client(root)
    obj = objects[model]
    with unchanged():
        assert client.get(f"/admin/sessions_app/{model}/add/").status_code == 403
        assert client.post(change_url(obj), {"points": 1000, "kind": "completed"}).status_code == 403
        assert client.post(f"/admin/sessions_app/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(change_url(obj)).content.decode()
    assert 'name="_save"' not in page


def test_it_lets_nobody_delete_sessions_or_add_them(root, session, unchanged):
    client = web_client(root)
    with unchanged():
        assert client.post(f"/admin/sessions_app/wingmansession/{session.pk}/delete/", {"post": "yes"}
                           ).status_code == 403
        assert client.get("/admin/sessions_app/wingmansession/add/").status_code == 403


def test_it_lets_moderators_edit_a_display_name_but_not_counters(mod, alice):
    profile = UserProfile.objects.get(user=alice)
    response = web_client(mod).post(change_url(profile), {"display_name": "Alice A.", "timezone": "Europe/Paris",
                                                      "reputation": 5000, "no_show_count": 0})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.display_name, profile.timezone, profile.reputation) == ("Alice A.", "Europe/Paris", 0)
    # Through profile_update: audited, naming the moderator.
    event = SessionEvent.objects.get(subject_user=alice)
    assert (event.kind, event.actor_id) == ("profile_updated", mod.pk)
    assert event.data["display_name"] == {"from": "Alice", "to": "Alice A."}


def test_a_display_name_edited_by_a_moderator_shows_in_the_session_at_once(
    mod, alice, bob, session, django_capture_on_commit_callbacks
):
    from sessions_app import selectors

    selectors.session_get_for_participant(session_id=session.pk, user=bob)  # now in the cache
    profile = UserProfile.objects.get(user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        web_client(mod).post(change_url(profile), {"display_name": "Alice A.", "timezone": "Europe/Berlin"})
    read = selectors.session_get_for_participant(session_id=session.pk, user=bob)
    assert selectors.display_name(read.user1) == "Alice A."


def test_it_keeps_the_users_of_a_match(mod, match, carol):
    response = web_client(mod).post(change_url(match), {"user1": carol.pk, "status": "ended"})
    assert response.status_code == 302
    match.refresh_from_db()
    assert (match.user1_id, match.status) == (match.user1_id, "ended")
    assert match.user1.username == "alice"
    event = SessionEvent.objects.get(match=match)
    assert (event.kind, event.actor_id) == ("match_status_changed", mod.pk)
    assert event.data == {"from": "accepted", "to": "ended"}


def test_a_match_status_change_that_would_strand_sessions_is_refused(mod, match, session, unchanged):
    with unchanged():
        response = web_client(mod).post(change_url(match), {"status": "ended"}, follow=True)
    assert "Not saved: This match has open sessions" in response.content.decode()


@pytest.mark.parametrize(
    "query", ["the blue", "alice", "bob@example.com", "Alice", "BOB"]
)
def test_it_finds_sessions_by_venue_user_e_mail_and_display_name(mod, session, make_session, carol_match, query):
    make_session(of_match=carol_match, venue_name="Elsewhere")
    response = web_client(mod).get("/admin/sessions_app/wingmansession/", {"q": query})
    assert [s.pk for s in response.context["cl"].result_list] == [session.pk]


def test_it_filters_profiles_by_no_shows(mod, alice, bob):
    UserProfile.objects.filter(user=bob).update(no_show_count=2)
    client = web_client(mod)
    assert [p.user for p in client.get("/admin/sessions_app/userprofile/", {"no_shows": "yes"}).context[
        "cl"].result_list] == [bob]
    assert {p.user.username for p in client.get("/admin/sessions_app/userprofile/", {"no_shows": "no"}).context[
        "cl"].result_list} == {"alice", "mod"}


def test_it_filters_sessions_by_status_and_date(mod, session, make_session):
    from datetime import timedelta

    old = make_session(starts_in=-timedelta(days=40), status="cancelled")
    client = web_client(mod)
    by_status = client.get("/admin/sessions_app/wingmansession/", {"status__exact": "cancelled"})
    assert [s.pk for s in by_status.context["cl"].result_list] == [old.pk]
    this_week = client.get("/admin/sessions_app/wingmansession/", {
        "scheduled_time__gte": (session.scheduled_time - timedelta(days=1)).isoformat()})
    assert [s.pk for s in this_week.context["cl"].result_list] == [session.pk]


def test_the_audit_list_links_each_event_to_its_subject(mod, alice, match, django_assert_max_num_queries):
    from sessions_app import services

    services.profile_update(user=alice, actor=mod, display_name="Ali")
    services.match_set_status(match_id=match.pk, moderator=mod, status="ended")
    client = web_client(mod)
    with django_assert_max_num_queries(8):
        page = client.get("/admin/sessions_app/sessionevent/").content.decode()
    assert change_url(UserProfile.objects.get(user=alice)) in page
    assert change_url(match) in page
