"""The participant pages (server-rendered, enhanced with HTMX).

Thin views: they read through selectors, change through services, and turn
domain errors into messages, form errors or the 403/404 pages. One view and
one template serve each page and its HTMX fragment (``if request.htmx``).
Every action is a plain form POST that redirects back, so all of it works
with JavaScript off.
"""

from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from . import rules, selectors, services
from .conditional import etag_matches, panel_etag, private
from .errors import DomainError, InvalidInput, NotFound, NotParticipant, VersionMismatch
from .forms import HistoryFilterForm, NotesForm, RescheduleForm, ScheduleForm, add_domain_error
from .logins import password_check
from .models import UserProfile, WingmanSession, buddy_of
from .services import notes_digest

HISTORY_PAGE_SIZE = 20
PROGRESS_WEEKS = 12
TIMELINE_LENGTH = 30


def _viewer(request: HttpRequest) -> UserProfile:
    """The viewer's profile (time zone, reputation), loaded with the user.

    After a POST it is read again: the action may have moved its counters.
    """
    return selectors.profile_for_user(user=request.user, fresh=request.method == "POST")


@contextmanager
def _as_error_pages():
    """NotFound and NotParticipant from the domain layer become the 404 and 403 pages."""
    try:
        yield
    except NotFound as error:
        raise Http404(error.message) from None
    except NotParticipant as error:
        raise PermissionDenied(error.message) from None


def _participant_session(request: HttpRequest, session_id) -> WingmanSession:
    """The session for one of its participants; outsiders get the 403 page, unknown ids the 404 page."""
    with _as_error_pages():
        return selectors.session_get_for_participant(session_id=session_id, user=request.user)


# --- dashboard, history, progress ----------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    now = timezone.now()
    current = selectors.session_current_for_user(user=request.user, now=now)
    context = {
        "viewer": viewer,
        "now": now,
        "current": current,
        "current_step": _step_view(current, request.user, now) if current else None,
        "needs_action": [
            {"session": session, **_step_view(session, request.user, now, step)}
            for session, step in selectors.session_needing_action_for_user(user=request.user, now=now)
            if session != current
        ],
        "upcoming": selectors.session_upcoming_for_user(user=request.user, now=now),
        "recent": selectors.session_recent_for_user(user=request.user),
        "stats": selectors.user_stats(user=request.user, now=now),
    }
    return private(render(request, "sessions/dashboard.html", context))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def history(request: HttpRequest) -> HttpResponse:
    """The viewer's sessions with filters and pagination; HTMX swaps only the results."""
    viewer = _viewer(request)
    matches = list(selectors.match_list_for_user(user=request.user))
    form = HistoryFilterForm(request.GET, user=request.user, matches=matches)
    filter_errors: dict[str, list[str]] = {}
    try:
        filters = form.filters()
    except InvalidInput as error:
        filters, filter_errors = None, error.fields
    page = None
    if filters is not None:
        queryset = selectors.session_list_for_user(user=request.user, filters=filters, tz=viewer.timezone)
        page = Paginator(queryset, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"viewer": viewer, "form": form, "filter_errors": filter_errors, "page": page, "query": query.urlencode()}
    template = "sessions/_history_results.html" if request.htmx else "sessions/history.html"
    # Refused filters answer 422 (as on the API): the page, or the fragment htmx swaps in, says why.
    return private(render(request, template, context, status=422 if filter_errors else 200))


@login_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    weeks = selectors.progress_for_user(profile=viewer, weeks=PROGRESS_WEEKS)
    context = {"viewer": viewer, "weeks": weeks, "stats": selectors.user_stats(user=request.user)}
    return private(render(request, "sessions/progress.html", context))


# --- the viewer's own data ------------------------------------------------------------------


@login_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    return private(render(request, "sessions/settings.html", {"viewer": _viewer(request)}))


@login_required
@require_POST
def account_erase(request: HttpRequest) -> HttpResponse:
    """Close the account after the password (counted toward the login limits like any login)."""
    user = password_check(request=request, username=request.user.get_username(),
                          password=request.POST.get("password", ""))
    if user is None:
        messages.error(request, "The password is not right; your account is unchanged.")
        return redirect("settings")
    services.user_erase(user=request.user)
    logout(request)
    messages.success(request, "Your account is closed. Thank you for being part of WingmanMatch.")
    return redirect("login")


@login_required
@require_GET
def export_download(request: HttpRequest) -> HttpResponse:
    """The same data as GET /api/me/export/, as a file to save."""
    response = JsonResponse(selectors.user_export(user=request.user), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="wingman-my-data.json"'
    return private(response)


# --- scheduling ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    matches = list(selectors.match_list_for_user(user=request.user, schedulable=True))
    form = ScheduleForm(
        request.POST or None,
        user=request.user,
        matches=matches,
        challenges=list(selectors.challenge_list_active()),
        tz=viewer.timezone,
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_schedule(user=request.user, **form.service_arguments())
        except DomainError as error:
            add_domain_error(form, error, form.service_field_names())
        else:
            messages.success(request, "Session scheduled.")
            return redirect("session_detail", session_id=session.pk)
    status = 400 if request.method == "POST" else 200
    return private(render(request, "sessions/schedule.html", {"viewer": viewer, "form": form}, status=status))


# --- the active session page -------------------------------------------------------------------


def _participant_view(session: WingmanSession, role: str, preview: dict, viewer_role: str) -> dict:
    user = session.user_for(role)
    return {
        "role": role,
        "is_viewer": role == viewer_role,
        "name": selectors.display_name(user),
        "challenge": session.challenge_snapshot(role),
        "checked_in_at": session.checked_in_at(role),
        "confirmed": session.is_confirmed(role),
        "reliability": selectors.reliability_of(user),
        "confirmed_by": selectors.display_name(session.user_for(buddy_of(role))),
        "delta": preview[f"{role}_delta"],
    }


# Each action the panel offers: (URL slug, label, button style); {buddy} is the buddy's name.
ACTION_FORMS = {
    "accept_reschedule": ("reschedule-accept", "Accept the new time", ""),
    "check_in": ("check-in", "Check in", ""),
    "start": ("start", "Start the session", ""),
    "pause": ("pause", "Pause", ""),
    "resume": ("resume", "Resume", ""),
    "confirm": ("confirm", "Confirm {buddy} completed their challenge", ""),
    "no_show": ("no-show", "Report {buddy} as a no-show", "danger"),
    "decline_reschedule": ("reschedule-decline", "Decline the new time", ""),
    "cancel": ("cancel", "Cancel the session", "danger"),
}


def action_label(action: str, buddy: str) -> str:
    return ACTION_FORMS[action][1].format(buddy=buddy)


def _actions_view(session: WingmanSession, user, allowed: dict, step, buddy: str, now: datetime) -> dict:
    """The panel's actions in three tiers: the next step's action (the one primary button), the other
    actions open now, and those that are not (listed quietly with their reasons). Cancelling, which
    takes a reason, has a form of its own, there only while it is allowed."""
    pending = rules.pending_reschedule(session, now)
    mine = pending and session.reschedule_proposed_by_id == user.pk
    names = [name for name in ACTION_FORMS
             if (name != "pause" or not session.is_paused) and (name != "resume" or session.is_paused)
             and (name not in ("accept_reschedule", "decline_reschedule") or pending)
             and not (name == "accept_reschedule" and mine)]
    actions = []
    for name in names:
        slug, label, style = ACTION_FORMS[name]
        if name == "decline_reschedule" and mine:
            label = "Withdraw your proposal"
        actions.append({"name": name, "slug": slug, "label": label.format(buddy=buddy), "style": style,
                        "allowed": allowed[name]["allowed"], "reason": allowed[name]["reason"]})
    primary = next((a for a in actions if step is not None and a["name"] == step.action), None)
    return {
        "primary": primary,
        "secondary": [a for a in actions if a["allowed"] and a is not primary and a["name"] != "cancel"],
        "cancel": next((a for a in actions if a["name"] == "cancel" and a["allowed"]), None),
        "unavailable": [a for a in actions if not a["allowed"]],
    }


# The timeline's words where the audit log's label would mislead on the page: "scheduled" there is when the
# session was booked, not its time (which the page gives as "starts in" / "was due").
TIMELINE_WORDS = {"scheduled": "booked the session"}


def _step_view(session: WingmanSession, user, now: datetime, step=None) -> dict:
    """A session's next step for the dashboard: the step, and its action's URL slug and label."""
    step = step or rules.next_action(session, user, now)
    action = step.action if step else None
    return {
        "step": step,
        "slug": ACTION_FORMS[action][0] if action else None,
        "label": action_label(action, selectors.display_name(session.other_member(user))) if action else None,
    }


def _timeline(session: WingmanSession, viewer_id) -> list[dict]:
    """The latest events, oldest first, with their details as the viewer sees them; a run of notes edits by
    one person reads as one line."""
    latest = list(selectors.session_events(session=session).order_by("-created_at", "-id")[:TIMELINE_LENGTH])
    lines: list[dict] = []
    for event in reversed(latest):
        previous = lines[-1] if lines else None
        if (previous and event.kind == "notes_updated" and previous["event"].kind == "notes_updated"
                and previous["event"].actor_id == event.actor_id):
            previous["times"] += 1
            previous["last_at"] = event.created_at
            continue
        lines.append({"event": event, "times": 1, "last_at": event.created_at,
                      "words": TIMELINE_WORDS.get(event.kind) or event.get_kind_display().lower(),
                      "data": rules.event_data_for(event.data, viewer_id),
                      "actor": selectors.display_name(event.actor) if event.actor else "System"})
    return lines


def _reschedule_view(session: WingmanSession, user, allowed: dict, now: datetime, tz: str) -> dict:
    """The reschedule card: the pending proposal (whose, when, where) and the form to propose another."""
    pending = rules.pending_reschedule(session, now)
    return {
        "pending": pending,
        "mine": pending and session.reschedule_proposed_by_id == user.pk,
        "time": session.reschedule_time if pending else None,
        "venue": (session.reschedule_venue_name or session.venue_name) if pending else "",
        "form": RescheduleForm(tz=tz, initial={"scheduled_time": session.scheduled_time.astimezone(
            ZoneInfo(tz)).replace(tzinfo=None)}),
        "can_propose": allowed["reschedule"]["allowed"],
        "late_window": rules.minutes(rules.LATE_CANCEL_WINDOW),
    }


def _panel_context(request: HttpRequest, session: WingmanSession, viewer: UserProfile, *,
                   allowed: dict, now: datetime, **extra) -> dict:
    role = session.role_of(request.user)
    preview = rules.reputation_preview(session, now)
    participants = [_participant_view(session, r, preview, role) for r in ("user1", "user2")]
    participants.sort(key=lambda p: not p["is_viewer"])
    step = rules.next_action(session, request.user, now, allowed)
    return {
        "viewer": viewer,
        "session": session,
        "me": participants[0],
        "me_id": request.user.pk,
        "buddy": participants[1],
        "participants": participants,
        "allowed": allowed,
        "now": now,
        "step": step,
        "actions": _actions_view(session, request.user, allowed, step, participants[1]["name"], now),
        "timeline": _timeline(session, request.user.pk),
        "cancellation_reason": rules.cancellation_reason_for(session, request.user.pk),
        "notes_readonly": not allowed["edit_notes"]["allowed"],
        "etag": panel_etag(session, request.user, allowed),
        # Read from the session row (no query): a session ended by a block means the block is done.
        "offer_block": not rules.ended_by_block_or_erasure(session),
        "reschedule": _reschedule_view(session, request.user, allowed, now, viewer.timezone),
        "notes_digest": notes_digest(session.notes),
        "active_seconds": session.active_seconds_at(now),
        **extra,
    }


def _render_session_page(request: HttpRequest, session: WingmanSession, *, status: int = 200,
                         fragment: bool = False, now: datetime | None = None, allowed: dict | None = None,
                         **extra) -> HttpResponse:
    """The full page, or (``fragment``) just the panel, which carries its ETag for the next poll."""
    now = now or timezone.now()
    allowed = allowed or rules.allowed_actions(session, request.user, now)
    context = _panel_context(request, session, _viewer(request), allowed=allowed, now=now, **extra)
    if not fragment:
        context["notes_form"] = extra.get("notes_form") or NotesForm(
            initial={"notes": session.notes, "expected_version": session.version,
                     "base_digest": context["notes_digest"]}
        )
    template = "sessions/_panel.html" if fragment else "sessions/detail.html"
    response = render(request, template, context, status=status)
    if fragment:
        response["ETag"] = context["etag"]
    return private(response)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def session_detail(request: HttpRequest, session_id) -> HttpResponse:
    """The active session page; with HTMX, just its panel, polled with If-None-Match."""
    session = _participant_session(request, session_id)
    if not request.htmx:
        return _render_session_page(request, session)
    now = timezone.now()
    allowed = rules.allowed_actions(session, request.user, now)
    etag = panel_etag(session, request.user, allowed)
    if etag_matches(request.headers.get("If-None-Match"), etag):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return private(response)
    return _render_session_page(request, session, fragment=True, now=now, allowed=allowed)


def _confirm(*, session_id, user, request):
    result = services.session_confirm(session_id=session_id, user=user)
    if result.both_confirmed:
        return f"Session completed. You earned {result.user_reputation_delta:+d} reputation."
    return "You confirmed your buddy's challenge."


def _simple(service: Callable, message: str) -> Callable:
    def run(*, session_id, user, request):
        service(session_id=session_id, user=user)
        return message
    return run


def _cancel(*, session_id, user, request):
    session = services.session_cancel(session_id=session_id, user=user, reason=request.POST.get("reason", ""))
    if session.cancellation_penalty:
        return f"Session cancelled. Late cancellation: -{session.cancellation_penalty} reputation."
    return "Session cancelled."


def _no_show(*, session_id, user, request):
    services.session_report_no_show(session_id=session_id, user=user)
    return "No-show reported."


def _reschedule(*, session_id, user, request):
    form = RescheduleForm(request.POST, tz=_viewer(request).timezone)
    if not form.is_valid():
        raise InvalidInput("; ".join(message for errors in form.errors.values() for message in errors))
    services.session_reschedule_propose(session_id=session_id, user=user, **form.cleaned_data)
    return "New time proposed; your buddy can accept or decline it."


def _block(*, session_id, user, request):
    session = selectors.session_get_for_participant(session_id=session_id, user=user)
    services.match_block(match_id=session.match_id, user=user, reason=request.POST.get("reason", ""),
                         report=request.POST.get("report") == "on")
    return "Blocked. You will not be matched or scheduled with them again."


def _dispute(*, session_id, user, request):
    services.session_dispute(session_id=session_id, user=user, reason=request.POST.get("reason", ""))
    return "Dispute sent. The outcome stands until a moderator decides."


# URL slug -> what the page does; each calls exactly one service.
ACTIONS: dict[str, Callable] = {
    "check-in": _simple(services.session_check_in, "You checked in."),
    "start": _simple(services.session_start, "The session has started."),
    "pause": _simple(services.session_pause, "The session is paused."),
    "resume": _simple(services.session_resume, "The session is running again."),
    "confirm": _confirm,
    "cancel": _cancel,
    "no-show": _no_show,
    "reschedule": _reschedule,
    "block": _block,
    "dispute": _dispute,
    "reschedule-accept": _simple(services.session_reschedule_accept, "New time accepted: the session has moved."),
    "reschedule-decline": _simple(services.session_reschedule_decline,
                                  "The proposal is off the table; the session keeps its time."),
}


@login_required
@require_POST
def session_action(request: HttpRequest, session_id, action: str) -> HttpResponse:
    """Run one lifecycle action; redirect back (plain POST) or answer the refreshed panel (HTMX)."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    try:
        with _as_error_pages():
            flash = ACTIONS[action](session_id=session_id, user=request.user, request=request)
        level = messages.SUCCESS
    except DomainError as error:
        flash, level = error.message, messages.ERROR
    if request.htmx:
        session = _participant_session(request, session_id)
        tag = messages.DEFAULT_TAGS[level]
        return _render_session_page(request, session, fragment=True, flash=flash, flash_level=tag)
    messages.add_message(request, level, flash)
    return redirect("session_detail", session_id=session_id)


def _notes_save(*, session_id, user, data: dict) -> WingmanSession:
    """Save the notes against the version and the text the editor started from."""
    return services.notes_update(session_id=session_id, user=user, notes=data["notes"],
                                 expected_version=data["expected_version"],
                                 base_notes_digest=data["base_digest"] or None)


@login_required
@require_POST
def session_notes(request: HttpRequest, session_id) -> HttpResponse:
    """Save the shared notes: autosaved by HTMX while typing, or with the Save button."""
    form = NotesForm(request.POST)
    if not form.is_valid():
        return _notes_refused(request, session_id, "; ".join(m for errs in form.errors.values() for m in errs))
    try:
        with _as_error_pages():
            session = _notes_save(session_id=session_id, user=request.user, data=form.cleaned_data)
    except VersionMismatch as mismatch:
        return _notes_conflict(request, session_id, form, mismatch)
    except DomainError as error:
        return _notes_refused(request, session_id, error.message)
    if not request.htmx:
        messages.success(request, "Notes saved.")
        return redirect(reverse("session_detail", kwargs={"session_id": session_id}) + "#notes")
    context = {
        "session": session,
        "state": "saved",
        "saved_at": timezone.now(),
        "notes_digest": notes_digest(session.notes),
        "replace_editor": form.cleaned_data["take_theirs"],
    }
    return private(render(request, "sessions/_notes_status.html", context))


def _notes_conflict(request: HttpRequest, session_id, form: NotesForm, mismatch: VersionMismatch) -> HttpResponse:
    """The buddy changed the notes meanwhile: show both texts and let the viewer choose."""
    conflict = {
        "theirs": mismatch.data["current_notes"],
        "yours": form.cleaned_data["notes"],
        "version": mismatch.data["current_version"],
        "theirs_digest": notes_digest(mismatch.data["current_notes"]),
    }
    if request.htmx:
        session = _participant_session(request, session_id)
        context = {"session": session, "state": "conflict", "conflict": conflict}
        return private(render(request, "sessions/_notes_status.html", context, status=409))
    session = _participant_session(request, session_id)
    notes_form = NotesForm(initial={"notes": form.cleaned_data["notes"], "expected_version": conflict["version"],
                                    "base_digest": conflict["theirs_digest"]})
    return _render_session_page(request, session, status=409, conflict=conflict, notes_form=notes_form)


def _notes_refused(request: HttpRequest, session_id, message: str) -> HttpResponse:
    if request.htmx:
        session = _participant_session(request, session_id)
        context = {"session": session, "state": "failed", "message": message}
        return private(render(request, "sessions/_notes_status.html", context, status=422))
    messages.error(request, f"Notes not saved: {message}")
    return redirect(reverse("session_detail", kwargs={"session_id": session_id}) + "#notes")
