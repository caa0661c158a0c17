"""Pages: the inbox; the unsubscribe link and the calendar feed, which work without logging in (their URLs
carry the credential)."""

import hashlib

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sessions_app.ical import sessions_calendar

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


@require_http_methods(["GET", "HEAD"])
def calendar_feed(request, token: str):
    """The user's sessions as a subscribable calendar; the secret token in the URL is the credential."""
    now = timezone.now()
    sessions = selectors.calendar_feed_for_token(token=token, now=now)
    if sessions is None:
        raise Http404("No such calendar.")
    # Any change to a session bumps its version; a session entering or leaving the 30-day window changes the list.
    etag = '"cal-' + hashlib.sha256(";".join(f"{s.pk}:{s.version}" for s in sessions).encode()).hexdigest()[:24] + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(sessions_calendar(sessions, now=now), content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    patch_cache_control(response, private=True, max_age=300)
    return response



@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    """Each kind's e-mail and in-app switches; the form posts every box (a missing one is off)."""
    if request.method == "POST":
        for kind in Kind.values:
            services.preference_set(user=request.user, kind=kind, email=f"{kind}:email" in request.POST,
                                    in_app=f"{kind}:in_app" in request.POST)
        messages.success(request, "Notification settings saved.")
        return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {"preferences": selectors.preferences_for(user=request.user)})
