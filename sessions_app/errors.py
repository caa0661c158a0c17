"""Domain errors: what the domain layer raises when it refuses something.

Each carries a stable machine-readable ``code`` and a human ``message``. The
API turns them into problem+json (the class decides the HTTP status), the
pages into form errors. Nothing here knows about HTTP.
"""

from typing import Any


class DomainError(Exception):
    """A business rule refused the request (HTTP 400)."""

    default_code = "rule_violation"

    def __init__(self, message: str, *, code: str | None = None, data: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.data = data or {}

    def __str__(self) -> str:
        return self.message


class RuleViolation(DomainError):
    """Timing, wrong state, self-confirmation and the like (400)."""


class NotParticipant(DomainError):
    """The user is not one of the two participants (403)."""

    default_code = "not_participant"


class NotFound(DomainError):
    """No such object, or not visible to this user (404)."""

    default_code = "not_found"


class Conflict(DomainError):
    """Already done, or clashes with another session (409)."""

    default_code = "conflict"


class VersionMismatch(DomainError):
    """The caller edited an older version than the current one (412)."""

    default_code = "version_mismatch"


class InvalidInput(DomainError):
    """Malformed input: wrong types, too long, unknown ids (422).

    ``fields`` maps a field name to a list of messages.
    """

    default_code = "invalid_input"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message, code=code, data={"fields": fields or {}})
        self.fields = fields or {}
