import re
from datetime import timedelta

from django.utils import timezone

from sessions_app.models import WingmanSession


def form_data(match, easy_challenge, hard_challenge, **overrides):
    when = (timezone.now() + timedelta(days=2)).astimezone(timezone.get_fixed_timezone(60))
    data = {
        "match": str(match.pk),
        "venue_name": "Café <b>Luna</b>",
        "scheduled_time": when.strftime("%Y-%m-%dT%H:%M"),
        "my_challenge": str(easy_challenge.pk),
        "buddy_challenge": str(hard_challenge.pk),
    }
    data.update(overrides)
    return data


def test_it_shows_the_form(alice_web, match, easy_challenge, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = alice_web.get("/sessions/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{match.pk}"' in html and "Bob" in html
    assert "Ask for a recommendation" in html
    assert "In your time zone, Europe/Berlin." in html
    assert re.search(r'name="scheduled_time" value="\d{4}-\d\d-\d\dT19:00"', html)  # tomorrow evening


def test_it_schedules_a_session(bob_web, bob, match, easy_challenge, hard_challenge):
    # bob is user2 of the match: "my challenge" is user2's.
    response = bob_web.post("/sessions/new/", form_data(match, easy_challenge, hard_challenge))
    session = WingmanSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sessions/{session.pk}/"
    assert session.venue_name == "Café <b>Luna</b>"  # plain text, kept as typed
    assert session.user2_challenge_id == easy_challenge.pk
    assert session.user1_challenge_id == hard_challenge.pk
    local = session.scheduled_time.astimezone(timezone.get_fixed_timezone(-300))  # bob: New York, winter
    assert local.strftime("%Y-%m-%dT%H:%M") == form_data(match, easy_challenge, hard_challenge)["scheduled_time"]


def test_it_shows_domain_errors_on_the_form(alice_web, match, easy_challenge, hard_challenge, unchanged):
    past = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    with unchanged():
        response = alice_web.post("/sessions/new/",
                                     form_data(match, easy_challenge, hard_challenge, scheduled_time=past))
    assert response.status_code == 400
    assert b"The scheduled time must be in the future." in response.content
    assert not WingmanSession.objects.exists()


def test_it_shows_field_errors(alice_web, match, easy_challenge, hard_challenge, unchanged):
    with unchanged():
        response = alice_web.post("/sessions/new/",
                                     form_data(match, easy_challenge, hard_challenge, venue_name="<script>x</script>"))
    assert response.status_code == 400
    assert b"This field is required." in response.content


def test_it_refuses_someone_elses_match(carol_web, carol_match, match, easy_challenge, hard_challenge, unchanged,
                                        django_assert_max_num_queries):
    with unchanged(), django_assert_max_num_queries(4):
        response = carol_web.post("/sessions/new/", form_data(match, easy_challenge, hard_challenge))
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert b"Dave" in response.content and b"Bob" not in response.content


def test_it_says_when_there_is_nobody_to_schedule_with(carol_web, db):
    response = carol_web.get("/sessions/new/")
    assert b"You have no accepted match yet" in response.content
