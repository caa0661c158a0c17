"""What the mails say: times in the recipient's zone, links, the unsubscribe link, and calendar invitations
parsed back with the icalendar library."""

import re
from datetime import UTC, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command
from icalendar import Calendar

from notifications.models import Kind, Notification, Preference
from sessions_app import services


def deliver():
    call_command("deliver_notifications", stdout=StringIO())


def parts(message) -> dict:
    found = {}
    for part in message.walk():
        if part.get_content_maintype() != "multipart":
            found.setdefault(part.get_content_type(), part)
    return found


def invitation(message) -> Calendar:
    return Calendar.from_ical(parts(message)["text/calendar"].get_content())


def test_the_schedule_mail_is_in_the_buddys_zone_with_links(smtp, schedule, bob):
    session = schedule()
    deliver()
    [mail] = smtp.inbox.to("bob@example.com")
    text = parts(mail)["text/plain"].get_content()
    html = parts(mail)["text/html"].get_content()
    local = session.scheduled_time.astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%H:%M} {local:%Z}" in text and local.strftime("%Z") in ("EST", "EDT")
    assert f"https://wingman.example/sessions/{session.pk}/" in text and f"/sessions/{session.pk}/" in html
    unsubscribe = re.search(r"https://wingman.example(/notifications/unsubscribe/[^/\s]+/)", text).group(1)
    assert mail["List-Unsubscribe"].strip() == f"<https://wingman.example{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_invitation_and_the_cancellation_replace_the_same_event(smtp, schedule, alice, bob):
    session = schedule()
    deliver()
    request = invitation(smtp.inbox.to("bob@example.com")[0])
    assert request["METHOD"] == "REQUEST"
    [event] = request.walk("VEVENT")
    uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
    assert uid == f"session-{session.pk}@sessions.wingmanmatch" and sequence == session.version
    assert event.decoded("DTSTART") == session.scheduled_time.astimezone(UTC).replace(microsecond=0)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:sessions@wingmanmatch.example"
    assert sorted(str(a) for a in event["ATTENDEE"]) == ["mailto:alice@example.com", "mailto:bob@example.com"]

    services.session_cancel(session_id=session.pk, user=alice, reason="Rain")
    deliver()
    cancel = invitation(smtp.inbox.to("bob@example.com")[1])
    assert cancel["METHOD"] == "CANCEL"
    [event] = cancel.walk("VEVENT")
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) > sequence
    assert str(event["STATUS"]) == "CANCELLED"


def test_reminders_carry_no_invitation(smtp, schedule):
    session = schedule()
    call_command("deliver_notifications", "--now", (session.scheduled_time - timedelta(hours=1)).isoformat(),
                 "--force", stdout=StringIO())
    reminders = [m for _, m in smtp.inbox.messages if m["Subject"].startswith("In an hour")]
    assert len(reminders) == 2 and all("text/calendar" not in parts(m) for m in reminders)


def test_the_unsubscribe_link_switches_off_that_kind_without_logging_in(smtp, schedule, client, bob):
    schedule()
    deliver()
    text = parts(smtp.inbox.to("bob@example.com")[0])["text/plain"].get_content()
    path = re.search(r"https://wingman.example(/notifications/unsubscribe/[^/\s]+/)", text).group(1)
    page = client.get(path)
    assert page.status_code == 200 and b"Stop these e-mails" in page.content
    assert not Preference.objects.exists()  # looking is not unsubscribing
    done = client.post(path)
    assert done.status_code == 200 and b"no more" in done.content
    assert list(Preference.objects.values_list("user", "kind", "email", "in_app")) == [
        (bob.pk, Kind.SESSION_SCHEDULED, False, True)]
    schedule(starts_in=timedelta(days=5))
    assert Notification.objects.filter(kind=Kind.SESSION_SCHEDULED).latest("pk").email is False


def test_a_forged_unsubscribe_link_changes_nothing(client, bob, unchanged):
    with unchanged():
        page = client.post("/notifications/unsubscribe/eyJ1IjoyfQ:forged:signature/")
    assert page.status_code == 404 and b"not valid" in page.content
    assert not Preference.objects.exists()
