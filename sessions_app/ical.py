"""Sessions as iCalendar (RFC 5545) events, written with the icalendar library.

The UID comes from the session id, so a calendar that imports the file again
updates the event instead of adding one; SEQUENCE is the session's version,
which only grows, so the newer copy wins. A cancelled session or a no-show is
STATUS:CANCELLED. Times are UTC.
"""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress

from .models import SessionStatus, WingmanSession
from .selectors import display_name

EVENT_LENGTH = timedelta(hours=1)
PRODID = "-//WingmanMatch//Sessions//EN"
UID_DOMAIN = "sessions.wingmanmatch"
CANCELLED_STATUSES = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)


def session_uid(session: WingmanSession) -> str:
    return f"session-{session.pk}@{UID_DOMAIN}"


def session_event(session: WingmanSession, *, now: datetime) -> Event:
    """One session as a VEVENT."""
    names = {role: display_name(session.user_for(role)) for role in ("user1", "user2")}
    description = [f"Wingman session: {names['user1']} and {names['user2']}."]
    for role, name in names.items():
        challenge = session.challenge_snapshot(role)
        description.append(f"{name}: {challenge['title']} ({challenge['points']} points)")
    event = Event()
    event.add("uid", session_uid(session))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", session.scheduled_time.astimezone(UTC))
    event.add("dtend", (session.scheduled_time + EVENT_LENGTH).astimezone(UTC))
    event.add("sequence", session.version)
    event.add("last-modified", session.updated_at.astimezone(UTC))
    event.add("summary", f"Wingman session at {session.venue_name}")
    event.add("location", session.venue_name)
    event.add("description", "\n".join(description))
    event.add("status", "CANCELLED" if session.status in CANCELLED_STATUSES else "CONFIRMED")
    return event


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def sessions_calendar(sessions, *, now: datetime, method: str = "PUBLISH") -> bytes:
    """A VCALENDAR holding these sessions, serialised (CRLF lines folded at 75 octets)."""
    calendar = _calendar(method)
    for session in sessions:
        calendar.add_component(session_event(session, now=now))
    return calendar.to_ical()


def _address(email: str, name: str, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = name
    address.params.update(params)
    return address


def session_invitation(session: WingmanSession, *, now: datetime, cancel: bool, organizer: tuple[str, str]) -> bytes:
    """An iTIP message (RFC 5546) for mail: METHOD:REQUEST, or METHOD:CANCEL with STATUS:CANCELLED.

    ``organizer`` is (e-mail, name) of the sender; both participants are
    attendees (mail clients ignore an invitation without them). Same UID as
    every other copy of the session, SEQUENCE its version, so the newest wins.
    """
    calendar = _calendar("CANCEL" if cancel else "REQUEST")
    event = session_event(session, now=now)
    if cancel:
        event.pop("status")
        event.add("status", "CANCELLED")
    event.add("organizer", _address(*organizer))
    for role in ("user1", "user2"):
        user = session.user_for(role)
        event.add("attendee", _address(user.email, display_name(user), role="REQ-PARTICIPANT",
                                       partstat="ACCEPTED", rsvp="FALSE"))
    calendar.add_component(event)
    return calendar.to_ical()
