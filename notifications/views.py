"""Pages: the unsubscribe link works without logging in; its signed token names the user and the kind."""

from django.core import signing
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import services
from .emails import unsubscribe_read
from .models import Kind


# The token in the URL is the credential (no cookie is used), and mail clients POST
# here for RFC 8058 one-click unsubscribe without any CSRF token.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a button; POST (the button, or a mail client's one-click) switches the e-mails off."""
    try:
        user_id, kind = unsubscribe_read(token)
    except signing.BadSignature:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
        services.preference_set(user=user, kind=kind, email=False)
    return render(request, "notifications/unsubscribe.html", {"label": Kind(kind).label, "done": done})
