"""RFC 9457 problem details: the one shape of every error the API gives.

``problem_response`` builds the body; ``exception_handler`` (DRF's
EXCEPTION_HANDLER) turns domain errors and DRF's own exceptions into it, so
parse errors, wrong media types, wrong methods, authentication failures,
throttling and validation all answer application/problem+json with a stable
``code``. The site's 404/500 handlers call ``problem_response`` for /api/.
"""

import json
import logging
import math
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework_simplejwt.exceptions import InvalidToken

from ..errors import Conflict, DomainError, InvalidInput, NotFound, NotParticipant, RuleViolation, VersionMismatch
from ..unavailable import database_fault

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:wingman:problem:"

DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (NotParticipant, 403),
    (NotFound, 404),
    (Conflict, 409),
    (VersionMismatch, 412),
    (InvalidInput, 422),
    (RuleViolation, 400),
    (DomainError, 400),
]


def problem_body(request, *, status: int, code: str, title: str | None = None, detail: str = "", **extra) -> dict:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description or HTTPStatus(status).phrase,
        "instance": request.path if request is not None else "",
        "code": code,
    }
    body.update(extra)
    return body


def problem_response(request, *, status: int, code: str, title: str | None = None, detail: str = "",
                     headers: dict | None = None, **extra) -> HttpResponse:
    """An application/problem+json answer; ``extra`` members are added to the body (e.g. ``errors``)."""
    body = problem_body(request, status=status, code=code, title=title, detail=detail, **extra)
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class PayloadTooLarge(drf.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class MalformedId(drf.APIException):
    """An id in the path is not a UUID (422, SPEC: a bad UUID is malformed input)."""

    status_code = 422
    default_detail = "The id in the path is not a valid UUID."
    default_code = "invalid_id"


def field_errors(detail) -> dict[str, list[str]]:
    """DRF's nested ValidationError detail flattened to {"field": ["message", ...]}."""
    out: dict[str, list[str]] = {}

    def walk(value, prefix: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(value, list):
            if all(not isinstance(item, dict | list) for item in value):
                out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in value)
            else:
                for index, inner in enumerate(value):
                    walk(inner, f"{prefix}.{index}" if prefix else str(index))
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk(detail, "")
    return out


def _detail_text(detail) -> str:
    if isinstance(detail, dict):
        if "detail" in detail:
            return str(detail["detail"])
        return "; ".join(f"{k}: {_detail_text(v)}" for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(_detail_text(item) for item in detail)
    return str(detail)


def _domain_problem(exc: DomainError, request) -> HttpResponse:
    status = next(code for cls, code in DOMAIN_STATUS if isinstance(exc, cls))
    extra = {key: value for key, value in exc.data.items() if key != "fields"}
    if isinstance(exc, InvalidInput):
        extra["errors"] = exc.fields
    return problem_response(request, status=status, code=exc.code, detail=exc.message, **extra)


def exception_handler(exc, context) -> HttpResponse | None:
    """DRF's EXCEPTION_HANDLER: every refusal becomes problem+json; unknown errors stay 500s."""
    request = context.get("request")
    if isinstance(exc, DomainError):
        return _domain_problem(exc, request)
    if isinstance(exc, Http404):
        return problem_response(request, status=404, code="not_found", detail="Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return problem_response(request, status=403, code="permission_denied",
                                detail="You do not have permission to do that.")
    if isinstance(exc, RecursionError):  # the JSON parser on absurdly nested input
        return problem_response(request, status=422, code="parse_error", detail="The JSON is nested too deeply.")
    if isinstance(exc, RequestDataTooBig):
        return problem_response(request, status=413, code="payload_too_large", detail=str(exc))
    fault = database_fault(exc)
    if fault is not None:
        logger.warning("database %s: %s", fault.code, exc)
        return problem_response(request, status=503, code=fault.code, title=fault.title, detail=fault.detail,
                                headers={"Retry-After": str(fault.retry_after)})
    if isinstance(exc, DatabaseError):
        return None  # a real bug: let Django log it and answer 500
    if not isinstance(exc, drf.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, drf.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))

    if isinstance(exc, drf.ValidationError):
        return problem_response(request, status=422, code="invalid_input", detail="Some fields are not valid.",
                                errors=field_errors(exc.detail), headers=headers)
    if isinstance(exc, drf.ParseError):
        return problem_response(request, status=422, code="parse_error", detail=_detail_text(exc.detail),
                                headers=headers)
    if isinstance(exc, InvalidToken):
        return problem_response(request, status=401, code="token_not_valid",
                                detail="The token is not valid or has expired.", headers=headers)
    if isinstance(exc, drf.PermissionDenied) and "CSRF" in str(exc.detail):
        return problem_response(request, status=403, code="csrf_failed", detail=_detail_text(exc.detail),
                                headers=headers)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    if isinstance(exc.detail, dict) and isinstance(exc.detail.get("code"), str):
        code = str(exc.detail["code"])  # simplejwt's {"detail", "code"} shape, e.g. password_changed
    return problem_response(request, status=exc.status_code, code=code, detail=_detail_text(exc.detail),
                            headers=headers)


@csrf_exempt  # answering 404 changes nothing, whoever asks
def api_not_found(request, *args, **kwargs) -> HttpResponse:
    """Any /api/ URL that names no endpoint."""
    return problem_response(request, status=404, code="not_found",
                            detail=f"There is no API endpoint at {request.path}.")
