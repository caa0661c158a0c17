"""Pages: the unsubscribe link works without logging in; its signed token names the user and the kind."""

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import selectors, services
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


@login_required
@require_http_methods(["GET", "POST"])
def inbox(request):
    """The viewer's notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        services.notifications_mark_read(user=request.user, everything=True)
        return redirect("notifications:page")
    page = Paginator(selectors.notifications_for_user(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})
