"""The bell's unread count for every page, read only when a template shows it."""

from .selectors import unread_count


def bell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"bell_unread": lambda: unread_count(user=user)}
