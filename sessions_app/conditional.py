"""Conditional requests on a participant's view of a session (RFC 9110), shared by the API and the pages.

An ETag is the session's version and a digest of everything the viewer's
view is built from, so a 304 is decided without rendering anything;
If-Match names the version an edit was written against. Header lists are
parsed by Django's own ``parse_etags``.
"""

import hashlib

from django.http import HttpResponse
from django.utils.http import parse_etags

from . import rules
from .models import WingmanSession
from .selectors import display_name, reliability_of

# Participants' views: only their browser may keep them, and only to revalidate.
PRIVATE_NO_CACHE = "private, no-cache"


def private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = PRIVATE_NO_CACHE
    return response


def session_view_digest(*, session: WingmanSession, user, allowed: dict) -> str:
    """A digest of everything a participant's view of the session is built from.

    The version covers every write to the session; the participants' names
    and reliability are not session writes; ``allowed`` (rules.allowed_actions for this viewer
    now) covers what changes with the clock alone, e.g. check-in opening. Two
    reads with the same digest show the same thing.
    """
    actions = ",".join(f"{name}={state['code'] or 'ok'}" for name, state in sorted(allowed.items()))
    names = f"{display_name(session.user1)}|{display_name(session.user2)}"
    names += f"|{reliability_of(session.user1)}|{reliability_of(session.user2)}"
    material = f"{session.pk}:{session.version}:{user.pk}:{names}:{actions}"
    return hashlib.sha256(material.encode()).hexdigest()[:20]


def session_etag(session: WingmanSession, user, allowed: dict, *, variant: str = "", also: str = "") -> str:
    """Strong ETag: the version first (so If-Match can name it), then the view's digest.

    ``variant`` tells apart representations of the same view (the page's panel, the API's JSON);
    ``also`` adds what else the representation shows (the page's bell count).
    """
    return f'"{variant}{session.version}-{session_view_digest(session=session, user=user, allowed=allowed)}{also}"'


def participant_view(session: WingmanSession, user, now) -> tuple[dict, str]:
    """What the viewer may do now (rules.allowed_actions) and the ETag of the viewer's view of it."""
    allowed = rules.allowed_actions(session, user, now)
    return allowed, session_etag(session, user, allowed)


def panel_etag(session: WingmanSession, user, allowed: dict) -> str:
    """The session page panel's ETag; the panel also carries the bell (swapped out of band), so its count too."""
    from notifications.selectors import unread_count

    return session_etag(session, user, allowed, variant="p", also=f"-u{unread_count(user=user)}")


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/").strip('"')


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Does an If-None-Match header match ``etag`` (weak comparison, as RFC 9110 asks for GET)?"""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return tags == ["*"] or _opaque(etag) in {_opaque(tag) for tag in tags}


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names: an ETag of ours or a bare version number.

    None when there is no precondition ("*" or no header); 0, which no
    session has, when the header names nothing we recognise, so the edit
    answers 412 as RFC 9110 wants for a non-matching If-Match.
    """
    if if_match is None or if_match.strip() in ("", "*"):
        return None
    for tag in parse_etags(if_match) or [if_match.strip()]:
        version = _opaque(tag).split("-", 1)[0]
        if version.isascii() and version.isdigit() and len(version) < 12:
            return int(version)
    return 0
