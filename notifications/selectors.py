"""Reads of notifications that pages, the API and the admin share."""

from datetime import datetime, timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet

from sessions_app.models import WingmanSession

from .models import CalendarToken, Kind, Notification, Preference

FEED_HISTORY = timedelta(days=30)


def notifications_for_user(*, user) -> QuerySet:
    """The user's in-app notifications that have been shown, newest first."""
    return (
        Notification.objects.filter(recipient=user, shown_at__isnull=False)
        .select_related("session")
        .order_by("-shown_at", "-pk")
    )


def unread_count(*, user) -> int:
    """The bell's figure: a column of the profile, which the user is loaded with (no query of its own)."""
    try:
        return user.profile.notifications_unread
    except ObjectDoesNotExist:
        return 0


def preferences_for(*, user) -> list[dict]:
    """Every kind with the user's channels for it (both on where the user chose nothing)."""
    chosen = {p.kind: p for p in Preference.objects.filter(user=user)}
    return [
        {"kind": kind, "label": label, "email": chosen[kind].email if kind in chosen else True,
         "in_app": chosen[kind].in_app if kind in chosen else True}
        for kind, label in Kind.choices
    ]


def calendar_feed_for_token(*, token: str, now: datetime) -> list | None:
    """The sessions of the token's owner from 30 days back on (None: no such token)."""
    from .services import calendar_token_digest

    owner = CalendarToken.objects.filter(digest=calendar_token_digest(token)).values_list("user_id", flat=True).first()
    if owner is None:
        return None
    return list(
        WingmanSession.objects.filter(Q(user1_id=owner) | Q(user2_id=owner), scheduled_time__gte=now - FEED_HISTORY)
        .select_related("user1__profile", "user2__profile").order_by("scheduled_time")
    )


def user_notification_data(*, user) -> dict:
    """Everything this app stores about the user, for their data export (three queries)."""
    token = CalendarToken.objects.filter(user=user).values("created_at").first()
    return {
        "notifications": list(Notification.objects.filter(recipient=user).order_by("created_at", "pk").values(
            "kind", "session_id", "payload", "created_at", "due_at", "status", "email", "in_app", "emailed_at",
            "shown_at", "read_at")),
        "notification_preferences": list(Preference.objects.filter(user=user).order_by("kind")
                                         .values("kind", "email", "in_app")),
        # The feed's secret is stored only as a digest; the export says whether a feed exists, and since when.
        "calendar_feed": {"created_at": token["created_at"]} if token else None,
    }
