"""The session page shows each participant's reliability; scheduling past a booking limit says why."""

from datetime import timedelta

from django.utils import timezone

from sessions_app.models import UserProfile, WingmanSession


def test_the_page_shows_the_buddys_reliability(alice_web, session, bob):
    UserProfile.objects.filter(pk=bob.pk).update(reliability_percent=85)
    buddy = alice_web.get(f"/sessions/{session.pk}/").content.decode().split('data-testid="participant-buddy"')[1]
    assert "Reliability: 85%" in buddy.split("</article>")[0]


def test_the_schedule_page_explains_a_booking_limit(alice_web, match, bob, easy_challenge, session, unchanged):
    UserProfile.objects.filter(pk=bob.pk).update(reliability_percent=50)
    when = (timezone.now() + timedelta(days=2)).astimezone(timezone.get_default_timezone())
    form = {"match": str(match.pk), "venue_name": "Park", "scheduled_time": when.strftime("%Y-%m-%dT%H:%M"),
            "my_challenge": str(easy_challenge.pk), "buddy_challenge": str(easy_challenge.pk)}
    with unchanged():
        response = alice_web.post("/sessions/new/", form)
    assert response.status_code == 400
    assert "booking limit is reached" in response.content.decode()
    assert WingmanSession.objects.count() == 1
