"""Reads of notifications that pages, the API and the admin share."""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from .models import Kind, Notification, Preference


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
