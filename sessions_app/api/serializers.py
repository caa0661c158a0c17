"""Request and response shapes of the JSON API.

Input serializers only check types and sizes (a wrong JSON type is 422);
every business rule is the domain layer's. Output serializers present what
the selectors and rules return; field names are the original column names.
The context carries ``user`` (the caller) and ``now``.
"""

from django.db import transaction
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from .. import rules, selectors
from ..models import Difficulty, DisputeStatus, SessionStatus, WingmanSession
from ..selectors import display_name, reliability_of

# --- strict input fields: JSON types are not coerced ----------------------------


class StrictCharField(serializers.CharField):
    """A string and nothing else (DRF's CharField would accept 42 as "42")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string (DRF's UUIDField would accept an integer)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false (not "yes", not 1)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not "5", not 5.5, not true)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.DATETIME)
class OffsetDateTimeField(serializers.Field):
    """An ISO 8601 date and time that states its offset (a naive time is ambiguous)."""

    default_error_messages = {
        "invalid": "Must be an ISO 8601 date and time, e.g. 2030-05-01T19:30:00+02:00.",
        "naive": "Must include a time zone offset.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = parse_datetime(data.strip())
        except (ValueError, OverflowError):
            value = None
        if value is None:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        return value

    def to_representation(self, value):
        return value.isoformat()


USER_ID = {"min_value": 1, "max_value": 2**63 - 1}


class ScheduleSerializer(serializers.Serializer):
    match_id = StrictUUIDField()
    venue_name = StrictCharField(max_length=rules.VENUE_MAX_LENGTH)
    scheduled_time = OffsetDateTimeField()
    user1_challenge_id = StrictUUIDField()
    user2_challenge_id = StrictUUIDField()


class ConfirmSerializer(serializers.Serializer):
    buddy_id = StrictIntegerField(required=False, allow_null=True, help_text="Optional: the buddy you confirm.",
                                  **USER_ID)


class ConfirmCompletionSerializer(ConfirmSerializer):
    session_id = StrictUUIDField()


class CancelSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=rules.REASON_MAX_LENGTH)


class RescheduleSerializer(serializers.Serializer):
    scheduled_time = OffsetDateTimeField()
    venue_name = StrictCharField(max_length=rules.VENUE_MAX_LENGTH, required=False, allow_blank=True,
                                 help_text="Optional: a new venue; left out or empty keeps the current one.")


class BlockSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=rules.REASON_MAX_LENGTH, required=False, allow_blank=True,
                             help_text="Optional; with report, what the moderators read.")
    report = StrictBooleanField(required=False, default=False, help_text="Also report the buddy to the moderators.")


class DisputeSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=rules.REASON_MAX_LENGTH, help_text="Why the outcome is wrong.")


class EraseSerializer(serializers.Serializer):
    password = StrictCharField(max_length=4096, trim_whitespace=False, help_text="Your current password.")


class NoShowSerializer(serializers.Serializer):
    absent_user_id = StrictIntegerField(required=False, allow_null=True,
                                        help_text="Optional: must be your buddy.", **USER_ID)


class NotesSerializer(serializers.Serializer):
    notes = StrictCharField(max_length=rules.NOTES_MAX_LENGTH, allow_blank=True, trim_whitespace=False,
                            help_text="Plain text, kept as typed; only script-bearing markup is removed.")


# --- output: DRF's representation, without its per-field machinery ------------------


class PlainRepresentation:
    """to_representation as DRF's Serializer does it, from a plan made once per class.

    DRF walks its bound fields for every object: the readable-fields generator,
    get_attribute with its error handling, a deep copy of the fields for each
    new serializer. For a page of 20 sessions that was a third of the answer.
    The plan keeps, per output field, where the value comes from and the
    field that formats it; the output is DRF's own (the same fields'
    to_representation, None kept as None), which tests/api/test_plain_representation.py
    checks against DRF for sessions in every state. For plain fields, nested
    serializers and SerializerMethodFields; a field with a source that is a
    method (DRF would call it) is not supported and refused when planned.
    """

    _plans: dict = {}

    def to_representation(self, instance):
        plan = PlainRepresentation._plans.get(type(self))
        if plan is None:
            plan = PlainRepresentation._plans[type(self)] = _plan(type(self))
        data = {}
        for name, attrs, field, method in plan:
            if method is not None:
                data[name] = getattr(self, method)(instance)
                continue
            value = instance
            for attr in attrs:
                value = value[attr] if isinstance(value, dict) else getattr(value, attr)
            data[name] = None if value is None else field.to_representation(value)
        return data


def _plan(serializer_class) -> list[tuple]:
    plan = []
    for name, field in serializer_class().fields.items():
        if field.write_only:
            continue
        if isinstance(field, serializers.SerializerMethodField):
            plan.append((name, (), field, field.method_name))
            continue
        if field.source == "*" or callable(getattr(serializer_class, field.source, None)):
            raise TypeError(f"{serializer_class.__name__}.{name}: PlainRepresentation reads attributes only")
        plan.append((name, tuple(field.source_attrs), field, None))
    return plan


class ChallengeSnapshotSerializer(PlainRepresentation, serializers.Serializer):
    title = serializers.CharField()
    description = serializers.CharField()
    difficulty = serializers.ChoiceField(choices=Difficulty.choices)
    points = serializers.IntegerField()


class ParticipantSerializer(PlainRepresentation, serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    challenge = ChallengeSnapshotSerializer()
    checked_in_at = serializers.DateTimeField(allow_null=True)
    confirmed = serializers.BooleanField(help_text="This participant's completion was confirmed by the buddy.")
    reliability_percent = serializers.IntegerField(
        allow_null=True, help_text="Share of the last 20 finished sessions without a no-show, late cancel or late "
        "reschedule of theirs; null until 3 have finished.")


class ParticipantsSerializer(PlainRepresentation, serializers.Serializer):
    user1 = ParticipantSerializer()
    user2 = ParticipantSerializer()


class ReputationPreviewSerializer(PlainRepresentation, serializers.Serializer):
    user1_delta = serializers.IntegerField()
    user2_delta = serializers.IntegerField()


class AllowedActionSerializer(PlainRepresentation, serializers.Serializer):
    allowed = serializers.BooleanField()
    code = serializers.CharField(allow_null=True, help_text="Why not, machine-readable; null when allowed.")
    reason = serializers.CharField(allow_null=True, help_text="Why not, for people; null when allowed.")


AllowedActionsSerializer = type(
    "AllowedActionsSerializer",
    (serializers.Serializer,),
    {action: AllowedActionSerializer() for action in rules.ACTION_CHECKS},
)


class TimingSerializer(PlainRepresentation, serializers.Serializer):
    scheduled_time = serializers.DateTimeField()
    check_in_opens_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    active_seconds = serializers.IntegerField(
        help_text="Active time banked up to running_since (pauses excluded); while the session runs, the live "
        "figure is active_seconds + (now - running_since). Kept fixed between writes so the ETag holds."
    )
    running_since = serializers.DateTimeField(allow_null=True, help_text="Start of the current running stretch.")
    running = serializers.BooleanField()
    paused = serializers.BooleanField()
    paused_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)


class RescheduleProposalSerializer(PlainRepresentation, serializers.Serializer):
    proposed_by = serializers.IntegerField(help_text="The user id of the participant who proposed it.")
    scheduled_time = serializers.DateTimeField()
    venue_name = serializers.CharField(help_text="The venue the session would move to (the current one if unchanged).")
    proposed_at = serializers.DateTimeField()


class DisputeStateSerializer(PlainRepresentation, serializers.Serializer):
    status = serializers.ChoiceField(choices=DisputeStatus.choices)
    opened_by = serializers.IntegerField(help_text="The user id of the participant who disputed.")
    reason = serializers.CharField()
    opened_at = serializers.DateTimeField()
    resolution_note = serializers.CharField(help_text="The moderator's note; empty while open.")
    resolved_at = serializers.DateTimeField(allow_null=True)


# Nested parts are rendered by one shared instance each: to_representation keeps
# no state, and building fresh serializers per session deep-copies every field.
_PARTICIPANTS = ParticipantsSerializer()
_TIMING = TimingSerializer()
_RESCHEDULE = RescheduleProposalSerializer()
_DISPUTE = DisputeStateSerializer()


def participant_data(session: WingmanSession, role: str) -> dict:
    return {
        "id": session.user_id_for(role),
        "name": display_name(session.user_for(role)),
        "challenge": session.challenge_snapshot(role),
        "checked_in_at": session.checked_in_at(role),
        "confirmed": session.is_confirmed(role),
        "reliability_percent": reliability_of(session.user_for(role)),
    }


class SessionSummarySerializer(PlainRepresentation, serializers.Serializer):
    """A session in a list: everything but the notes and the caller-specific parts."""

    id = serializers.UUIDField()
    match_id = serializers.UUIDField()
    user1_id = serializers.IntegerField()
    user2_id = serializers.IntegerField()
    venue_name = serializers.CharField()
    scheduled_time = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    user1_challenge_id = serializers.UUIDField()
    user2_challenge_id = serializers.UUIDField()
    user1_completed_confirmed_by_user2 = serializers.BooleanField()
    user2_completed_confirmed_by_user1 = serializers.BooleanField()
    completed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()
    participants = serializers.SerializerMethodField()
    reputation_preview = serializers.SerializerMethodField()

    @extend_schema_field(ParticipantsSerializer)
    def get_participants(self, session: WingmanSession) -> dict:
        return _PARTICIPANTS.to_representation({role: participant_data(session, role) for role in ("user1", "user2")})

    @extend_schema_field(ReputationPreviewSerializer)
    def get_reputation_preview(self, session: WingmanSession) -> dict:
        return rules.reputation_preview(session, self.context["now"])


class SessionSerializer(SessionSummarySerializer):
    """The full session: same body on GET /api/sessions/{id}/ and GET /api/session/{session_id}."""

    notes = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    cancellation_reason = serializers.SerializerMethodField(
        help_text="Why it was cancelled (empty when no reason is shown: not cancelled, or cancelled by the buddy's "
                  "block)")
    cancelled_by_id = serializers.IntegerField(allow_null=True)
    cancellation_penalty = serializers.IntegerField()
    no_show_user_id = serializers.IntegerField(allow_null=True)
    timing = serializers.SerializerMethodField()
    reschedule = serializers.SerializerMethodField()
    dispute = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    @extend_schema_field(TimingSerializer)
    def get_timing(self, session: WingmanSession) -> dict:
        return _TIMING.to_representation({
            "scheduled_time": session.scheduled_time,
            "check_in_opens_at": rules.check_in_opens_at(session),
            "started_at": session.started_at,
            "active_seconds": session.active_seconds,
            "running_since": session.running_since,
            "running": session.running_since is not None,
            "paused": session.is_paused,
            "paused_at": session.paused_at,
            "completed_at": session.completed_at,
            "cancelled_at": session.cancelled_at,
        })

    def get_cancellation_reason(self, session: WingmanSession) -> str:
        return rules.cancellation_reason_for(session, self.context["user"].pk)

    @extend_schema_field(RescheduleProposalSerializer(allow_null=True))
    def get_reschedule(self, session: WingmanSession) -> dict | None:
        """The pending proposal, or null (none, or lapsed)."""
        if not rules.pending_reschedule(session, self.context["now"]):
            return None
        return _RESCHEDULE.to_representation({
            "proposed_by": session.reschedule_proposed_by_id,
            "scheduled_time": session.reschedule_time,
            "venue_name": session.reschedule_venue_name or session.venue_name,
            "proposed_at": session.reschedule_proposed_at,
        })

    @extend_schema_field(DisputeStateSerializer(allow_null=True))
    def get_dispute(self, session: WingmanSession) -> dict | None:
        """The latest dispute of the outcome (the open one while there is one), or null."""
        dispute = session.current_dispute
        if dispute is None:
            return None
        return _DISPUTE.to_representation({
            "status": dispute.status, "opened_by": dispute.opened_by_id, "reason": dispute.reason,
            "opened_at": dispute.opened_at, "resolution_note": dispute.resolution_note,
            "resolved_at": dispute.resolved_at,
        })

    @extend_schema_field(AllowedActionsSerializer)
    def get_allowed_actions(self, session: WingmanSession) -> dict:
        if "allowed" in self.context:
            return self.context["allowed"]
        return rules.allowed_actions(session, self.context["user"], self.context["now"])


class ConfirmCompletionResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    session_status = serializers.ChoiceField(choices=SessionStatus.choices)
    both_confirmed = serializers.BooleanField()
    reputation_updated = serializers.BooleanField()
    user_reputation_delta = serializers.IntegerField()


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True, help_text="null for the system")
    actor_name = serializers.SerializerMethodField()
    data = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_actor_name(self, event) -> str | None:
        return display_name(event.actor) if event.actor_id else None

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, event) -> dict:
        """The event's details as the caller (context "user", a participant) sees them."""
        return rules.event_data_for(event.data, self.context["user"].pk)


class MatchSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    user1_id = serializers.IntegerField()
    user2_id = serializers.IntegerField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class ChallengeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField()
    difficulty = serializers.ChoiceField(choices=Difficulty.choices)
    points = serializers.IntegerField()


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField()
    timezone = serializers.CharField()
    reputation = serializers.IntegerField()
    completed_sessions = serializers.IntegerField()
    no_show_count = serializers.IntegerField()


class StatsSerializer(PlainRepresentation, serializers.Serializer):
    total_sessions = serializers.IntegerField()
    completed_sessions = serializers.IntegerField()
    cancelled_sessions = serializers.IntegerField()
    no_show_sessions = serializers.IntegerField()
    completion_rate_percent = serializers.FloatField()
    total_active_seconds = serializers.IntegerField()
    average_duration_seconds = serializers.IntegerField()
    reputation = serializers.IntegerField()
    weekly_streak = serializers.IntegerField()


def stats_of(user) -> dict:
    """The user's statistics as the API shows them: MeViewSet.stats, and its early answer
    (sessions_app/session_reads.py)."""
    return StatsSerializer(selectors.user_stats(user=user)).data


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, with a stable ``code``."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="422 only: messages per field.",
    )



class RefreshOnceSerializer(TokenRefreshSerializer):
    """simplejwt's rotating refresh, single-use under concurrency too.

    Two requests with the same refresh token could both pass simplejwt's
    blacklist check before either blacklists it. The token's row is locked
    first, so the second waits, then finds the token blacklisted (401).
    """

    @transaction.atomic
    def validate(self, attrs):
        jti = self.token_class(attrs["refresh"])[jwt_settings.JTI_CLAIM]
        OutstandingToken.objects.select_for_update().filter(jti=jti).first()
        return super().validate(attrs)


class VersionMismatchProblemSerializer(ProblemSerializer):
    """The 412 answer to a stale If-Match: the problem plus what the session holds now."""

    current_version = serializers.IntegerField(help_text="The session's version now; send it in If-Match to overwrite.")
    current_notes = serializers.CharField(help_text="The notes as they are now, to show beside yours.")
