"""Forms of the participant pages: they parse and render input, the services decide.

No business rule lives here: a form only turns posted strings into Python
values (and back into widgets), and maps the domain layer's refusals onto
its fields.
"""

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from . import rules
from .errors import DomainError, InvalidInput
from .models import SessionStatus
from .selectors import SESSION_ORDERING_LABELS, SessionFilters, display_name


def add_domain_error(form: forms.Form, error: DomainError, field_names: dict[str, str] | None = None) -> None:
    """Show a domain refusal on the form: per field where the service named fields, else on the whole form."""
    field_names = field_names or {}
    fields = error.fields if isinstance(error, InvalidInput) else {}
    placed = False
    for name, messages in fields.items():
        target = field_names.get(name, name)
        if target in form.fields:
            for message in messages:
                form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


class LocalTimeForm(forms.Form):
    """A form with a session time picked as wall-clock time in the viewer's time zone."""

    scheduled_time = forms.DateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )

    def __init__(self, *args, tz: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(tz)
        self.fields["scheduled_time"].help_text = f"In your time zone, {tz}."

    def clean_scheduled_time(self):
        """The picker sends wall-clock time; it means the viewer's time zone."""
        value = self.cleaned_data["scheduled_time"]
        if timezone.is_aware(value):
            value = timezone.make_naive(value, timezone.get_current_timezone())
        return value.replace(tzinfo=self.zone)


class ScheduleForm(LocalTimeForm):
    """Schedule a session: the viewer picks the match, the venue, the time and both challenges."""

    match = forms.ChoiceField(label="Buddy")
    venue_name = forms.CharField(label="Venue", max_length=rules.VENUE_MAX_LENGTH)
    my_challenge = forms.TypedChoiceField(label="Your challenge", coerce=uuid.UUID)
    buddy_challenge = forms.TypedChoiceField(label="Your buddy's challenge", coerce=uuid.UUID)

    field_order = ["match", "venue_name", "scheduled_time", "my_challenge", "buddy_challenge"]

    def __init__(self, *args, user, matches, challenges, tz: str = "UTC", **kwargs):
        super().__init__(*args, tz=tz, **kwargs)
        self.user = user
        self.matches = {str(match.pk): match for match in matches}
        self.fields["match"].choices = [
            (key, display_name(match.other_member(user)))
            for key, match in self.matches.items()
        ]
        challenge_choices = [
            (str(c.pk), f"{c.title} · {c.get_difficulty_display()} · {c.points} pts") for c in challenges
        ]
        self.fields["my_challenge"].choices = challenge_choices
        self.fields["buddy_challenge"].choices = challenge_choices
        tomorrow_evening = (timezone.now() + timedelta(days=1)).astimezone(self.zone).replace(
            hour=19, minute=0, second=0, microsecond=0
        )
        self.initial.setdefault("scheduled_time", tomorrow_evening.replace(tzinfo=None))

    def service_arguments(self) -> dict:
        """The form's values in the terms of services.session_schedule (user1/user2 of the match)."""
        data = self.cleaned_data
        match = self.matches[data["match"]]
        mine, buddys = data["my_challenge"], data["buddy_challenge"]
        user1_challenge, user2_challenge = (mine, buddys) if match.user1_id == self.user.pk else (buddys, mine)
        return {
            "match_id": match.pk,
            "venue_name": data["venue_name"],
            "scheduled_time": data["scheduled_time"],
            "user1_challenge_id": user1_challenge,
            "user2_challenge_id": user2_challenge,
        }

    def service_field_names(self) -> dict[str, str]:
        """Where the service's field errors belong on this form."""
        return {"match_id": "match", "user1_challenge_id": "my_challenge", "user2_challenge_id": "buddy_challenge"}


class RescheduleForm(LocalTimeForm):
    """Propose a new time for a session, and optionally a new venue."""

    venue_name = forms.CharField(label="New venue (optional)", max_length=rules.VENUE_MAX_LENGTH, required=False)


class HistoryFilterForm(forms.Form):
    """The history filters, parsed here for the page and the API alike, and rendered on the page.

    ``blank_allowed``: the page's form submits every field, empty meaning
    "any"; an API client leaves a filter out instead, so there an empty one
    is malformed.
    """

    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *SessionStatus.choices],
        error_messages={"invalid_choice": f"One of: {', '.join(SessionStatus.values)}."},
    )
    match = forms.UUIDField(required=False, label="Buddy", widget=forms.Select,
                            error_messages={"invalid": "Must be a UUID."})
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}),
                                input_formats=["%Y-%m-%d"], error_messages={"invalid": "Must be a date, YYYY-MM-DD."})
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}),
                              input_formats=["%Y-%m-%d"], error_messages={"invalid": "Must be a date, YYYY-MM-DD."})
    completed = forms.ChoiceField(
        required=False, label="Completed", choices=[("", "Either"), ("true", "Completed"), ("false", "Not completed")],
        error_messages={"invalid_choice": "Must be true or false."},
    )
    ordering = forms.ChoiceField(
        required=False, label="Order", choices=list(SESSION_ORDERING_LABELS.items()),
        error_messages={"invalid_choice": f"One of: {', '.join(SESSION_ORDERING_LABELS)}."},
    )

    _BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def __init__(self, data=None, *, user, matches=(), blank_allowed: bool = True, **kwargs):
        data = data.copy() if data is not None else None
        if data is not None:
            if "match_id" in data and "match" not in data:  # the column's name works too
                data["match"] = data["match_id"]
            if "completed" in data:  # case-insensitive, and 1/0, yes/no
                data["completed"] = {"1": "true", "yes": "true", "0": "false", "no": "false"}.get(
                    data["completed"].lower(), data["completed"].lower())
        super().__init__(data, **kwargs)
        self.blank_allowed = blank_allowed
        self.fields["match"].widget.choices = [("", "Any buddy")] + [
            (str(m.pk), display_name(m.other_member(user))) for m in matches
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.blank_allowed:
            for name in self.fields:
                if name in self.data and not str(self.data[name]).strip():
                    self.add_error(name, "Must not be empty; leave the parameter out instead.")
        for name in ("date_from", "date_to"):
            day = cleaned.get(name)
            # Day bounds in any time zone must still convert to UTC (years 1 and 9999 overflow).
            if day and not 1900 <= day.year <= 9000:
                self.add_error(name, "Must be a date between 1900 and 9000.")
        return cleaned

    def filters(self) -> SessionFilters:
        """The parsed filters; raises InvalidInput naming each bad parameter."""
        if not self.is_valid():
            raise InvalidInput("Some filters are not valid.",
                               fields={name: list(errors) for name, errors in self.errors.items()})
        data = self.cleaned_data
        return SessionFilters(
            status=data["status"] or None,
            match_id=data["match"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            completed=self._BOOLEANS.get(data["completed"]),
            ordering=data["ordering"] or SessionFilters.ordering,
        )


class NotesForm(forms.Form):
    """A notes edit: the text, and the version (and notes fingerprint) it was written against."""

    notes = forms.CharField(required=False, strip=False, max_length=rules.NOTES_MAX_LENGTH, widget=forms.Textarea)
    expected_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    base_digest = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    take_theirs = forms.BooleanField(required=False, widget=forms.HiddenInput)
