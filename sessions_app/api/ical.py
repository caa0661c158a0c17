"""A session as an iCalendar (RFC 5545) event.

The UID is derived from the session id, so a calendar that imports the file
again updates the event instead of adding one; SEQUENCE is the session's
version, so the newer copy wins. Times are UTC.
"""

from datetime import UTC, datetime, timedelta

from rest_framework.renderers import BaseRenderer

from ..models import SessionStatus, WingmanSession
from ..selectors import display_name

EVENT_LENGTH = timedelta(hours=1)
PRODID = "-//WingmanMatch//Sessions//EN"
UID_DOMAIN = "sessions.wingmanmatch"
STATUS = {
    SessionStatus.CANCELLED: "CANCELLED",
    SessionStatus.NO_SHOW: "CANCELLED",
}


def escape_text(value: str) -> str:
    """TEXT value escaping: backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line to at most 75 octets, never splitting a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        limit = 75 if not out else 74  # continuation lines start with a space
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def session_uid(session: WingmanSession) -> str:
    return f"session-{session.pk}@{UID_DOMAIN}"


def session_calendar(session: WingmanSession, *, now: datetime) -> str:
    buddy_names = " and ".join(display_name(session.user_for(role)) for role in ("user1", "user2"))
    description_lines = [f"Wingman session: {buddy_names}."]
    for role in ("user1", "user2"):
        challenge = session.challenge_snapshot(role)
        description_lines.append(
            f"{display_name(session.user_for(role))}: {challenge['title']} ({challenge['points']} points)"
        )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{session_uid(session)}",
        f"DTSTAMP:{utc(now)}",
        f"DTSTART:{utc(session.scheduled_time)}",
        f"DTEND:{utc(session.scheduled_time + EVENT_LENGTH)}",
        f"SEQUENCE:{session.version}",
        f"LAST-MODIFIED:{utc(session.updated_at)}",
        f"SUMMARY:{escape_text('Wingman session at ' + session.venue_name)}",
        f"LOCATION:{escape_text(session.venue_name)}",
        f"DESCRIPTION:{escape_text(chr(10).join(description_lines))}",
        f"STATUS:{STATUS.get(session.status, 'CONFIRMED')}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


class ICalendarRenderer(BaseRenderer):
    """Lets clients ask for text/calendar; the view hands it the finished text."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else b""
