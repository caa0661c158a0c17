"""The bell's unread count for every page (from the profile the user is loaded with)."""

from .selectors import unread_count


def bell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"bell_unread": lambda: unread_count(user=user)}
