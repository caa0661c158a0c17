"""Reads of notifications that pages, the API and the admin share."""

from django.db.models import QuerySet

from .models import Inbox, Kind, Notification, Preference


def notifications_for_user(*, user) -> QuerySet:
    """The user's in-app notifications that have been shown, newest first."""
    return (
        Notification.objects.filter(recipient=user, shown_at__isnull=False)
        .select_related("session")
        .order_by("-shown_at", "-pk")
    )


def unread_count(*, user) -> int:
    """The bell's figure: one primary-key read of the user's inbox row."""
    return Inbox.objects.filter(user=user).values_list("unread", flat=True).first() or 0


def preferences_for(*, user) -> list[dict]:
    """Every kind with the user's channels for it (both on where the user chose nothing)."""
    chosen = {p.kind: p for p in Preference.objects.filter(user=user)}
    return [
        {"kind": kind, "label": label, "email": chosen[kind].email if kind in chosen else True,
         "in_app": chosen[kind].in_app if kind in chosen else True}
        for kind, label in Kind.choices
    ]
