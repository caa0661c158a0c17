"""A notification as an e-mail: subject and lines per kind, rendered into the
plain-text and HTML templates, in the recipient's time zone, with a link to
the session, a signed one-click unsubscribe link for the kind, and an
iCalendar attachment on schedule, move and cancel mails."""

from datetime import datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from sessions_app.ical import session_invitation
from sessions_app.selectors import display_name

from .models import Kind, Notification

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
MESSAGE_ID_DOMAIN = "notifications.wingmanmatch"
INVITATION_KINDS = {Kind.SESSION_SCHEDULED: False, Kind.SESSION_RESCHEDULED: False, Kind.SESSION_CANCELLED: True}


def unsubscribe_token(*, user_id, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str]:
    """(user id, kind) from a token; signing.BadSignature when it was not made here."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or data.get("k") not in Kind.values:
        raise signing.BadSignature("not an unsubscribe token")
    return int(data["u"]), data["k"]


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _when(value: str | datetime, zone: ZoneInfo) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(zone).strftime("%A %-d %B %Y, %H:%M %Z")


def _content(notification: Notification, zone: ZoneInfo) -> tuple[str, list[str]]:
    """Subject and body lines for this notification, its times in ``zone``."""
    payload = notification.payload
    session = notification.session
    buddy = display_name(session.user2 if session.user1_id == notification.recipient_id else session.user1)
    venue = payload.get("venue", session.venue_name)
    when = _when(payload.get("scheduled_time", session.scheduled_time), zone)
    texts = {
        Kind.SESSION_SCHEDULED: (f"{buddy} scheduled a session with you",
                                 [f"{buddy} scheduled a wingman session at {venue} on {when}.",
                                  "The calendar invitation is attached."]),
        Kind.SESSION_RESCHEDULED: (f"Your session with {buddy} moved to {when}",
                                   [f"Your session at {venue} is now on {when}.",
                                    "The updated calendar invitation is attached."]),
        Kind.RESCHEDULE_PROPOSED: (f"{buddy} proposes a new time",
                                   [f"{buddy} proposes to move the session at {venue} to "
                                    f"{_when(payload.get('proposed_time', session.scheduled_time), zone)}."]),
        Kind.RESCHEDULE_DECLINED: (f"{buddy} declined the new time",
                                   [f"The session at {venue} stays on {when}."]),
        Kind.SESSION_CANCELLED: (f"Session at {venue} cancelled",
                                 [f"The session at {venue} on {when} was cancelled.",
                                  f"Reason: {payload.get('reason') or 'none given'}.",
                                  "The attached cancellation removes it from your calendar."]),
        Kind.BUDDY_CHECKED_IN: (f"{buddy} checked in at {venue}", [f"{buddy} is at {venue} and has checked in."]),
        Kind.SESSION_COMPLETED: (f"Session completed: {payload.get('points', 0)} points",
                                 [f"Your session with {buddy} at {venue} is complete.",
                                  f"You earned {payload.get('points', 0)} points."]),
        Kind.NO_SHOW_REPORTED: ("You were reported absent",
                                [f"You were reported absent from the session at {venue} on {when}.",
                                 "If you were there, open the session and dispute the report, or write to "
                                 "the moderators; the points come back when the report is overturned."]),
        Kind.DISPUTE_OPENED: (f"A dispute was opened about the session at {venue}",
                              ["A moderator will look at it and decide."]),
        Kind.DISPUTE_RESOLVED: (f"The dispute about the session at {venue} is resolved",
                                [f"Outcome: {payload.get('outcome', '')}."]),
        Kind.REMINDER_24H: (f"Tomorrow: session with {buddy} at {venue}", [f"Your session is on {when}."]),
        Kind.REMINDER_1H: (f"In an hour: session with {buddy} at {venue}", [f"Your session starts {when}."]),
        Kind.CHECK_IN_OPEN: (f"Check-in is open for {venue}",
                             [f"Your session with {buddy} starts {when}. Check in when you arrive."]),
        Kind.CONFIRM_BUDDY: (f"Did {buddy} complete the challenge?",
                             [f"Confirm {buddy}'s challenge for the session at {venue} so you both earn points."]),
    }
    return texts[notification.kind]


def build_message(notification: Notification, *, connection, now: datetime) -> EmailMultiAlternatives:
    recipient = notification.recipient
    zone = ZoneInfo(getattr(getattr(recipient, "profile", None), "timezone", None) or "UTC")
    subject, lines = _content(notification, zone)
    unsubscribe = absolute(reverse("notifications:unsubscribe",
                                   args=[unsubscribe_token(user_id=recipient.pk, kind=notification.kind)]))
    context = {
        "name": display_name(recipient), "subject": subject, "lines": lines,
        "session_url": absolute(reverse("session_detail", args=[notification.session_id])),
        "unsubscribe_url": unsubscribe, "kind_label": notification.get_kind_display(),
    }
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string("notifications/email/message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient.email], connection=connection,
        headers={
            "Message-ID": f"<{notification.key}@{MESSAGE_ID_DOMAIN}>",
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string("notifications/email/message.html", context), "text/html")
    if notification.kind in INVITATION_KINDS:
        cancel = INVITATION_KINDS[notification.kind]
        organizer = parseaddr(settings.DEFAULT_FROM_EMAIL)
        ics = session_invitation(notification.session, now=now, cancel=cancel,
                                 organizer=(organizer[1], organizer[0] or "WingmanMatch"))
        method = "CANCEL" if cancel else "REQUEST"
        message.attach("invite.ics", ics.decode(), f"text/calendar; method={method}; charset=utf-8")
    return message
