"""The moderators' reports queue (open first, oldest first; "Mark reviewed" goes through report_review) and the
booking-limit waiver on profiles."""

from datetime import timedelta

from django.utils import timezone

from sessions_app import services
from sessions_app.models import Report, SessionEvent
from tests.conftest import web_client

from .conftest import act, messages_of

REPORTS = "/admin/sessions_app/report/"


def test_the_queue_lists_open_reports_oldest_first(mod, match, carol_match, alice, carol):
    services.match_block(match_id=match.pk, user=alice, reason="first", report=True)
    services.match_block(match_id=carol_match.pk, user=carol, reason="second", report=True)
    Report.objects.filter(reason="first").update(created_at=timezone.now() - timedelta(hours=1))
    services.report_review(report_id=Report.objects.get(reason="first").pk, moderator=mod)
    services.match_block(match_id=carol_match.pk, user=carol_match.user2, reason="third", report=True)
    page = web_client(mod).get(REPORTS)
    assert page.status_code == 200
    listed = [report.reason for report in page.context["cl"].result_list]
    assert listed == ["second", "third", "first"]


def test_a_moderator_marks_reports_reviewed(mod, match, alice):
    services.match_block(match_id=match.pk, user=alice, report=True)
    report = Report.objects.get()
    response = act(web_client(mod), REPORTS, "mark_reviewed", [report])
    assert messages_of(response) == ["Marked reviewed 1 report."]
    report.refresh_from_db()
    assert report.status == "reviewed" and report.reviewed_by == mod
    assert SessionEvent.objects.filter(kind="report_reviewed").count() == 1


def test_staff_without_moderation_cannot(viewer, match, alice, unchanged):
    services.match_block(match_id=match.pk, user=alice, report=True)
    report = Report.objects.get()
    with unchanged():
        response = act(web_client(viewer), REPORTS, "mark_reviewed", [report])
    assert response.status_code in (302, 403)


def test_a_moderator_waives_a_booking_limit_from_the_profiles(mod, bob):
    from sessions_app.models import UserProfile

    profile = UserProfile.objects.get(pk=bob.pk)
    response = act(web_client(mod), "/admin/sessions_app/userprofile/", "waive_booking_limit", [profile])
    assert messages_of(response) == ["Waived the booking limit of 1 user."]
    assert UserProfile.objects.get(pk=bob.pk).booking_limit_waived is True
    assert SessionEvent.objects.get(kind="booking_limit_waived").subject_user == bob
