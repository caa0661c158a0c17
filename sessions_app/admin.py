"""Django admin for moderators.

Moderators find sessions and people here and resolve no-shows and disputes.
Nothing is edited behind the domain layer's back: a session's fields are all
read-only, profile counters too, the audit log and the ledger are read-only
for everyone (superusers included), and every change to a session is an
action that calls a service in sessions_app.services, so audit events and
ledger rows are written exactly as when participants act.

Big tables never get an unbounded COUNT(*): see EstimatedCountPaginator.
"""

import json
from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from . import rules, services
from .errors import DomainError
from .models import (
    ApproachChallenge,
    Block,
    Dispute,
    Report,
    ReputationLedger,
    SessionEvent,
    UserProfile,
    WingmanMatch,
    WingmanSession,
)

admin.site.site_header = "WingmanMatch moderation"
admin.site.site_title = "WingmanMatch moderation"

# A bulk action runs one service call (one transaction) per row; more than
# this many rows at once is almost surely a mistaken "select all".
MAX_BULK_ROWS = 500


# --- counting without scanning -------------------------------------------------


class EstimatedCountPaginator(Paginator):
    """A paginator whose count never scans a whole big table.

    It counts at most EXACT_UP_TO + 1 rows (a bounded subquery). When there
    are more, PostgreSQL's own estimate is used instead: pg_class.reltuples
    for an unfiltered table, the planner's row estimate for a filtered one.
    Other databases (SQLite) count exactly. The last pages of a list whose
    estimate is low may be out of reach; moderators narrow with search and
    filters instead.
    """

    EXACT_UP_TO = 1000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return super().count
        bounded = queryset.order_by()[: self.EXACT_UP_TO + 1].count()
        if bounded <= self.EXACT_UP_TO:
            return bounded
        return max(bounded, self._estimate(queryset))

    @staticmethod
    def _estimate(queryset: QuerySet) -> int:
        with connections[queryset.db].cursor() as cursor:
            if not queryset.query.where:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
                )
                row = cursor.fetchone()
                return int(row[0]) if row else 0
            sql, params = queryset.order_by().query.sql_with_params()
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str | bytes):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])


class ModeratedAdmin(admin.ModelAdmin):
    """Shared by every model here: bounded counts, no deletes, moderation permission."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    # (action name, button label) shown on the change page to moderators.
    moderation_buttons: tuple[tuple[str, str], ...] = ()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        """Actions with permissions=["moderate"] need this; so do the services."""
        return request.user.has_perm(services.MODERATE_PERMISSION)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        buttons = self.moderation_buttons if self.has_moderate_permission(request) else ()
        return super().change_view(request, object_id, form_url, {**(extra_context or {}),
                                                                  "moderation_buttons": buttons})


class ServiceWriteAdmin(ModeratedAdmin):
    """Edits that go through a service (audited, checked); a refusal is shown and nothing is saved."""

    def write(self, request: HttpRequest, obj, changed: dict) -> None:
        """Call the service for the changed fields of ``obj`` (as loaded, before the form's values)."""
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            self.write(request, obj, changed)
        except DomainError as error:
            request._service_refusal = error.message

    def response_change(self, request: HttpRequest, obj):
        refusal = getattr(request, "_service_refusal", None)
        if refusal:
            self.message_user(request, f"Not saved: {refusal}", messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from the product (matching, sign-up), not from the admin


class ReadOnlyAdmin(ModeratedAdmin):
    """Append-only tables: nobody adds, changes or deletes rows here."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# --- running an action row by row ------------------------------------------------


def _label(session: WingmanSession) -> str:
    return f"{session.venue_name} @ {session.scheduled_time:%Y-%m-%d %H:%M}"


def _report(
    modeladmin: admin.ModelAdmin, request: HttpRequest, *, done: int, verb: str, noun: str, refused: list[str]
) -> None:
    """One message for the rows that worked, one error per refused row with the domain's reason.

    verb and noun make the success line: "Cancelled 3 sessions."
    """
    if done:
        modeladmin.message_user(request, f"{verb} {done} {noun}{'' if done == 1 else 's'}.", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, f"Refused: {line}", messages.ERROR)
    if not done and not refused:
        modeladmin.message_user(request, "Nothing to do.", messages.WARNING)


def _for_each_row(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    sessions: Iterable,
    verb: str,
    call: Callable[[object], object],
    *,
    noun: str = "session",
    label: Callable[[object], str] = _label,
) -> None:
    """Call a service for each row (a session unless ``noun`` and ``label`` say otherwise), each in its own
    transaction, and report.

    A refused row (a DomainError) changes nothing, the others still go ahead.
    """
    done, refused = 0, []
    for row in sessions:
        try:
            call(row)
        except DomainError as error:
            refused.append(f"{label(row)}: {error.message}")
        else:
            done += 1
    _report(modeladmin, request, done=done, verb=verb, noun=noun, refused=refused)


def _too_many(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> bool:
    if queryset.order_by()[: MAX_BULK_ROWS + 1].count() > MAX_BULK_ROWS:  # bounded, even for "select all"
        modeladmin.message_user(
            request, f"Select at most {MAX_BULK_ROWS} rows for one action; narrow the list first.", messages.ERROR
        )
        return True
    return False


def _back_to_object(request: HttpRequest, objects: list) -> HttpResponseRedirect | None:
    """After a button on a change page, return to that page rather than the list."""
    if request.POST.get("_from_change") and len(objects) == 1:
        obj = objects[0]
        return HttpResponseRedirect(
            reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        )
    return None


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=rules.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to both participants and kept in the audit log.",
    )


class NoShowForm(forms.Form):
    absent = forms.ChoiceField(
        label="Absent participant",
        widget=forms.RadioSelect,
        choices=[("user1", "user1 (the match's first member)"), ("user2", "user2 (the match's second member)")],
    )

    def __init__(self, *args, sessions: list[WingmanSession], **kwargs):
        super().__init__(*args, **kwargs)
        if len(sessions) == 1:
            # One session: name the two people rather than their roles.
            only = sessions[0]
            self.fields["absent"].choices = [
                ("user1", f"{only.user1.get_username()} ({only.user1.email or 'no e-mail'})"),
                ("user2", f"{only.user2.get_username()} ({only.user2.email or 'no e-mail'})"),
            ]


def _intermediate_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    sessions: list[WingmanSession],
    *,
    form: forms.Form,
    action: str,
    title: str,
    button: str,
) -> TemplateResponse:
    """The page asking what an action needs (a reason, a participant) before doing it."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "form": form,
        "sessions": sessions,
        "action": action,
        "button": button,
        "from_change": request.POST.get("_from_change", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/sessions_app/moderation_action.html", context)


# --- sessions ----------------------------------------------------------------------


class SessionEventInline(ReadOnlyInline):
    model = SessionEvent
    verbose_name = "event"
    verbose_name_plural = "Event timeline (audit log)"
    fields = ("created_at", "kind", "actor", "data")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


class LedgerInline(ReadOnlyInline):
    model = ReputationLedger
    verbose_name = "ledger row"
    verbose_name_plural = "Reputation ledger"
    fields = ("created_at", "user", "reason", "points")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("user")


def _person(user) -> str:
    if user is None:
        return "-"
    try:
        name = user.profile.display_name
    except UserProfile.DoesNotExist:
        name = ""
    return f"{user.get_username()} · {name or 'no display name'} · {user.email or 'no e-mail'}"


@admin.register(WingmanSession)
class WingmanSessionAdmin(ModeratedAdmin):
    """Sessions are read-only here; moderators change them through actions only."""

    list_display = ("venue_name", "scheduled_time", "status", "participant_1", "participant_2", "confirmations",
                    "created_at")
    list_filter = ("status", "scheduled_time", "created_at")
    search_fields = (
        "venue_name",
        "user1__username", "user1__email", "user1__profile__display_name",
        "user2__username", "user2__email", "user2__profile__display_name",
    )
    list_select_related = ("user1__profile", "user2__profile")
    ordering = ("-scheduled_time", "-id")
    inlines = (SessionEventInline, LedgerInline)
    actions = ("cancel_sessions", "mark_no_show", "complete_sessions", "rebuild_participants_reputation")
    moderation_buttons = (
        ("cancel_sessions", "Cancel…"),
        ("mark_no_show", "Mark no-show…"),
        ("complete_sessions", "Mark completed"),
        ("rebuild_participants_reputation", "Rebuild reputation"),
    )
    fieldsets = (
        ("Session", {"fields": ("id", "match", "venue_name", "scheduled_time", "status", "version", "created_at",
                                "updated_at")}),
        ("user1", {"fields": ("user1_person", "user1_checked_in_at", "user1_completed_confirmed_by_user2",
                              "user1_challenge", "user1_challenge_title", "user1_challenge_difficulty",
                              "user1_challenge_points", "user1_challenge_description")}),
        ("user2", {"fields": ("user2_person", "user2_checked_in_at", "user2_completed_confirmed_by_user1",
                              "user2_challenge", "user2_challenge_title", "user2_challenge_difficulty",
                              "user2_challenge_points", "user2_challenge_description")}),
        ("Timing", {"fields": ("started_at", "paused_at", "active_seconds", "completed_at")}),
        ("Cancellation and no-show", {"fields": ("cancelled_at", "cancelled_by", "cancellation_reason",
                                                 "cancellation_penalty", "no_show_user")}),
        ("Notes", {"fields": ("notes",)}),
    )
    readonly_fields = ("id", "user1_person", "user2_person")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match and match.url_name and match.url_name.endswith("_change"):
            # The change page shows every related row: one query with the session.
            queryset = queryset.select_related(
                "match__user1", "match__user2", "user1__profile", "user2__profile", "user1_challenge",
                "user2_challenge", "cancelled_by", "no_show_user",
            )
        return queryset

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # participants schedule sessions, with the scheduling rules

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # every change is an action through the domain layer

    @admin.display(description="user1")
    def participant_1(self, session: WingmanSession) -> str:
        return session.user1.get_username()

    @admin.display(description="user2")
    def participant_2(self, session: WingmanSession) -> str:
        return session.user2.get_username()

    @admin.display(description="confirmed (user1, user2)")
    def confirmations(self, session: WingmanSession) -> str:
        def mark(flag: bool) -> str:
            return "yes" if flag else "no"

        return f"{mark(session.user1_completed_confirmed_by_user2)}, {mark(session.user2_completed_confirmed_by_user1)}"

    @admin.display(description="participant")
    def user1_person(self, session: WingmanSession) -> str:
        return _person(session.user1)

    @admin.display(description="participant")
    def user2_person(self, session: WingmanSession) -> str:
        return _person(session.user2)

    def _selected(self, request: HttpRequest, queryset: QuerySet) -> list[WingmanSession] | None:
        if _too_many(self, request, queryset):
            return None
        return list(queryset.select_related("user1", "user2").order_by("scheduled_time", "id"))

    @admin.action(description="Cancel selected sessions (asks for a reason)", permissions=["moderate"])
    def cancel_sessions(self, request: HttpRequest, queryset: QuerySet):
        sessions = self._selected(request, queryset)
        if sessions is None:
            return None
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return _intermediate_page(self, request, sessions, form=form, action="cancel_sessions",
                                      title="Cancel sessions", button="Cancel these sessions")
        reason = form.cleaned_data["reason"]
        _for_each_row(
            self, request, sessions, "Cancelled",
            lambda s: services.session_cancel_by_moderator(session_id=s.pk, moderator=request.user, reason=reason),
        )
        return _back_to_object(request, sessions)

    @admin.action(description="Mark no-show for a named participant", permissions=["moderate"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet):
        sessions = self._selected(request, queryset)
        if sessions is None:
            return None
        form = NoShowForm(request.POST if "apply" in request.POST else None, sessions=sessions)
        if not form.is_valid():
            return _intermediate_page(self, request, sessions, form=form, action="mark_no_show",
                                      title="Mark a participant absent", button="Mark no-show")
        absent = form.cleaned_data["absent"]
        _for_each_row(
            self, request, sessions, "Recorded a no-show on",
            lambda s: services.session_mark_no_show(
                session_id=s.pk, moderator=request.user, absent_user_id=s.user_id_for(absent)
            ),
        )
        return _back_to_object(request, sessions)

    @admin.action(description="Mark selected sessions completed", permissions=["moderate"])
    def complete_sessions(self, request: HttpRequest, queryset: QuerySet):
        sessions = self._selected(request, queryset)
        if sessions is None:
            return None
        _for_each_row(
            self, request, sessions, "Completed",
            lambda s: services.session_complete_by_moderator(session_id=s.pk, moderator=request.user),
        )
        return _back_to_object(request, sessions)

    @admin.action(description="Rebuild reputation of the participants", permissions=["moderate"])
    def rebuild_participants_reputation(self, request: HttpRequest, queryset: QuerySet):
        sessions = self._selected(request, queryset)
        if sessions is None:
            return None
        users = {}
        for session in sessions:
            users.setdefault(session.user1_id, session.user1)
            users.setdefault(session.user2_id, session.user2)
        _rebuild(self, request, users.values())
        return _back_to_object(request, sessions)


def _rebuild(modeladmin: admin.ModelAdmin, request: HttpRequest, users: Iterable) -> None:
    """Rebuild each user's counters from the ledger and say which ones drifted."""
    done, refused = 0, []
    for user in users:
        try:
            drift = services.reputation_rebuild(user_id=user.pk)
        except DomainError as error:
            refused.append(f"{user.get_username()}: {error.message}")
            continue
        done += 1
        if drift:
            changes = ", ".join(f"{counter} {old} → {new}" for counter, (old, new) in sorted(drift.items()))
            modeladmin.message_user(request, f"{user.get_username()}: repaired {changes}.", messages.WARNING)
    _report(modeladmin, request, done=done, verb="Rebuilt the reputation of", noun="user", refused=refused)


# --- matches, challenges, profiles ------------------------------------------------------


@admin.register(WingmanMatch)
class WingmanMatchAdmin(ServiceWriteAdmin):
    list_display = ("id", "user1", "user2", "status", "created_at")
    list_filter = ("status", "created_at")
    search_fields = (
        "user1__username", "user1__email", "user1__profile__display_name",
        "user2__username", "user2__email", "user2__profile__display_name",
    )
    list_select_related = ("user1", "user2")
    autocomplete_fields = ("user1", "user2")
    ordering = ("-created_at", "-id")

    # A match never changes its users (sessions copy them); its status changes through match_set_status.
    readonly_fields = ("user1", "user2", "created_at")

    def write(self, request: HttpRequest, match: WingmanMatch, changed: dict) -> None:
        if "status" in changed:
            services.match_set_status(match_id=match.pk, moderator=request.user, status=changed["status"])


@admin.register(ApproachChallenge)
class ApproachChallengeAdmin(ModeratedAdmin):
    """Editing a challenge is safe: sessions keep the snapshot taken when scheduled."""

    list_display = ("title", "difficulty", "points", "is_active")
    list_filter = ("difficulty", "is_active")
    search_fields = ("title", "description")
    ordering = ("points", "title")


class HasNoShowsFilter(admin.SimpleListFilter):
    """A filter with fixed choices: a filter listing every distinct value would scan the table."""

    title = "no-shows"
    parameter_name = "no_shows"

    def lookups(self, request: HttpRequest, model_admin):
        return (("yes", "at least one"), ("no", "none"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        if self.value() == "yes":
            return queryset.filter(no_show_count__gt=0)
        if self.value() == "no":
            return queryset.filter(no_show_count=0)
        return queryset


@admin.register(UserProfile)
class UserProfileAdmin(ServiceWriteAdmin):
    """Display name and time zone are editable; counters move only with the ledger."""

    list_display = ("user", "display_name", "email", "reputation", "completed_sessions", "no_show_count",
                    "total_sessions", "reliability_percent", "booking_limit_waived")
    search_fields = ("user__username", "user__email", "display_name")
    list_filter = (HasNoShowsFilter,)
    list_select_related = ("user",)
    ordering = ("user__username",)
    fields = ("user", "display_name", "timezone", "reputation", "completed_sessions", "no_show_count",
              "total_sessions", "cancelled_sessions", "no_show_sessions", "total_active_seconds", "streak_weeks",
              "streak_last_week", "reliability_percent", "booking_limit_waived")
    readonly_fields = ("user", "reputation", "completed_sessions", "no_show_count", "total_sessions",
                       "cancelled_sessions", "no_show_sessions", "total_active_seconds", "streak_weeks",
                       "streak_last_week", "reliability_percent", "booking_limit_waived")
    actions = ("rebuild_reputation", "waive_booking_limit")
    moderation_buttons = (("rebuild_reputation", "Rebuild reputation"),)

    def write(self, request: HttpRequest, profile: UserProfile, changed: dict) -> None:
        services.profile_update(user=profile.user, actor=request.user, display_name=changed.get("display_name"),
                                timezone_name=changed.get("timezone"))

    @admin.display(description="e-mail", ordering="user__email")
    def email(self, profile: UserProfile) -> str:
        return profile.user.email

    @admin.action(description="Rebuild reputation from the ledger", permissions=["moderate"])
    def rebuild_reputation(self, request: HttpRequest, queryset: QuerySet):
        if _too_many(self, request, queryset):
            return None
        profiles = list(queryset.select_related("user"))
        _rebuild(self, request, [profile.user for profile in profiles])
        return _back_to_object(request, profiles)

    @admin.action(description="Waive the booking limit", permissions=["moderate"])
    def waive_booking_limit(self, request: HttpRequest, queryset: QuerySet):
        if _too_many(self, request, queryset):
            return None
        profiles = list(queryset)
        _for_each_row(self, request, profiles, "Waived the booking limit of",
                          lambda profile: services.profile_waive_booking_limit(user_id=profile.pk,
                                                                               moderator=request.user),
                          noun="user", label=str)
        return _back_to_object(request, profiles)


# --- trust: blocks and the reports queue ---------------------------------------------------


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """The moderators' queue of reports: open ones first ("open" sorts before "reviewed"), oldest first."""

    list_display = ("created_at", "status", "reporter", "reported", "reason", "match")
    list_filter = ("status", "created_at")
    search_fields = ("reporter__username", "reported__username", "reason")
    list_select_related = ("reporter", "reported", "match__user1", "match__user2")
    ordering = ("status", "created_at", "id")
    actions = ("mark_reviewed",)

    @admin.action(description="Mark selected reports reviewed", permissions=["moderate"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet):
        if _too_many(self, request, queryset):
            return
        _for_each_row(self, request, queryset, "Marked reviewed",
                          lambda report: services.report_review(report_id=report.pk, moderator=request.user),
                          noun="report", label=str)


class DisputeResolveForm(forms.ModelForm):
    """Resolve an open dispute: uphold, or overturn to another outcome (through the moderators' decision)."""

    decision = forms.ChoiceField(
        required=False,
        choices=[("", "— leave open —"), ("uphold", "Uphold the outcome"),
                 ("completed", "Overturn: completed (both confirmed)"),
                 ("cancelled", "Overturn: cancelled without penalty (the note is the reason)"),
                 ("no_show", "Overturn: no-show of the participant named below")],
    )
    absent = forms.ChoiceField(required=False, label="Absent participant (no-show only)",
                               choices=[("", "—"), ("user1", "user1"), ("user2", "user2")])
    note = forms.CharField(required=False, max_length=rules.REASON_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                           help_text="Required to resolve; both participants see it.")

    class Meta:
        model = Dispute
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            session = self.instance.session
            self.fields["absent"].choices = [("", "—"), ("user1", session.user1.get_username()),
                                             ("user2", session.user2.get_username())]


@admin.register(Dispute)
class DisputeAdmin(ServiceWriteAdmin):
    """The moderators' queue of disputes: open first ("open" sorts first), oldest first; resolved on the
    change page, through services.dispute_resolve."""

    form = DisputeResolveForm
    list_display = ("opened_at", "status", "session_link", "opened_by", "disputed_status", "reason")
    list_filter = ("status", "opened_at")
    search_fields = ("opened_by__username", "session__venue_name", "reason")
    list_select_related = ("opened_by", "session")
    ordering = ("status", "opened_at", "id")
    readonly_fields = ("session_link", "opened_by", "disputed_status", "reason", "status", "opened_at",
                       "resolution_note", "resolved_at", "resolved_by", "accounts", "timeline")
    fieldsets = (
        (None, {"fields": ("session_link", "opened_by", "disputed_status", "reason", "status", "opened_at")}),
        ("Both accounts", {"fields": ("accounts",)}),
        ("Event timeline", {"fields": ("timeline",)}),
        ("Resolution", {"fields": ("decision", "absent", "note", "resolution_note", "resolved_at", "resolved_by")}),
    )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.has_moderate_permission(request)

    @admin.display(description="session")
    def session_link(self, dispute: Dispute) -> str:
        url = reverse("admin:sessions_app_wingmansession_change", args=[dispute.session_id])
        return format_html('<a href="{}">{}</a>', url, _label(dispute.session))

    @admin.display(description="accounts")
    def accounts(self, dispute: Dispute) -> str:
        """Each participant's history in figures, linked to their profile."""
        session = dispute.session
        rows = []
        for role in ("user1", "user2"):
            profile = UserProfile.objects.filter(pk=session.user_id_for(role)).select_related("user").first()
            if profile is None:
                continue
            url = reverse("admin:sessions_app_userprofile_change", args=[profile.pk])
            rows.append(format_html(
                '<li>{}: <a href="{}">{}</a>, reputation {}, {} sessions: {} completed, {} cancelled, '
                '{} no-shows (absent {} times)</li>',
                role, url, profile.user.get_username(), profile.reputation, profile.total_sessions,
                profile.completed_sessions, profile.cancelled_sessions, profile.no_show_sessions,
                profile.no_show_count,
            ))
        return format_html("<ul>{}</ul>", format_html_join("", "{}", ((row,) for row in rows)))

    @admin.display(description="timeline")
    def timeline(self, dispute: Dispute) -> str:
        events = dispute.session.events.select_related("actor").order_by("created_at", "id")[:100]
        return format_html("<ol>{}</ol>", format_html_join("", "<li>{} · {} · {} {}</li>", (
            (f"{event.created_at:%Y-%m-%d %H:%M}", event.actor.get_username() if event.actor else "system",
             event.get_kind_display(), json.dumps(event.data, default=str)) for event in events)))

    def write(self, request: HttpRequest, dispute: Dispute, changed: dict) -> None:
        decision = changed.get("decision")
        if not decision:
            return
        absent = changed.get("absent")
        services.dispute_resolve(
            dispute_id=dispute.pk, moderator=request.user, decision=decision, note=changed.get("note", ""),
            absent_user_id=dispute.session.user_id_for(absent) if absent else None,
        )


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "blocker", "blocked", "reason", "match")
    list_filter = ("created_at",)
    search_fields = ("blocker__username", "blocked__username")
    list_select_related = ("blocker", "blocked", "match__user1", "match__user2")
    ordering = ("-created_at", "-id")


# --- the append-only tables -------------------------------------------------------------


@admin.register(SessionEvent)
class SessionEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "subject", "actor")
    list_filter = ("kind", "created_at")
    search_fields = ("session__venue_name", "actor__username", "actor__email", "subject_user__username")
    list_select_related = ("session", "match__user1", "match__user2", "subject_user__profile", "actor")
    ordering = ("-created_at", "-id")

    @admin.display(description="subject")
    def subject(self, event: SessionEvent) -> str:
        """What the event is about: a session, else a match or a user, linked to its admin page."""
        target = event.session or event.match or (event.subject_user.profile if event.subject_user else None)
        if target is None:
            return "—"
        url = reverse(f"admin:{target._meta.app_label}_{target._meta.model_name}_change", args=[target.pk])
        return format_html('<a href="{}">{}</a>', url, _label(target) if event.session else str(target))


@admin.register(ReputationLedger)
class ReputationLedgerAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "reason", "points", "decision", "session_link")
    list_filter = ("reason", "created_at")
    search_fields = ("user__username", "user__email", "session__venue_name")
    list_select_related = ("user", "session")
    ordering = ("-created_at", "-id")

    @admin.display(description="session")
    def session_link(self, row: ReputationLedger) -> str:
        url = reverse("admin:sessions_app_wingmansession_change", args=[row.session_id])
        return format_html('<a href="{}">{}</a>', url, _label(row.session))
