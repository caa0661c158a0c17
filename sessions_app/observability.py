"""Request ids and structured log lines.

RequestLogMiddleware gives every request an id (the caller's X-Request-ID
when it is a sane token, else a new one), echoes it in the X-Request-ID
response header, and writes one log line per request: method, path, status,
duration in milliseconds and user id. RequestIdFilter stamps the id on every
log record emitted while that request is handled, and JsonFormatter writes
each record as one JSON object per line, extra fields included.

This module is loaded by LOGGING before the apps are ready: it must not
import models.
"""

import contextvars
import logging
import re
import time
import uuid
from datetime import UTC, datetime

import pythonjsonlogger.json
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and a few separators, at most 128 characters: safe to log and to echo.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

logger = logging.getLogger("wingman.request")


def incoming_request_id(value: str | None) -> str:
    """The caller's id if it is a sane token, else a fresh one (never log what a client made up freely)."""
    if value and SANE_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


def _user_id(request: HttpRequest):
    """The user's id if authentication already ran; never load the user just to log it.

    (Evaluating a lazy request.user here would add queries to requests that
    never needed the user, e.g. /healthz.) DRF copies the user it
    authenticated onto the Django request, so API requests are covered too.
    """
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return getattr(user, "pk", None)


def log_request(request: HttpRequest, status: int, started: float) -> None:
    """The request's one log line: method, path, status, duration since ``started`` (perf_counter), user id.

    RequestLogMiddleware writes it for every answer Django gives; the early session reads
    (sessions_app/session_reads.py) write it for the answers they give before Django.
    """
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    logger.log(
        level,
        "%s %s %s %.1fms",
        request.method,
        request.path,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": duration_ms,
            "user_id": _user_id(request),
        },
    )


class RequestLogMiddleware:
    """First in MIDDLEWARE, so the duration covers all the others and every answer is logged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            log_request(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds request_id to each record (None outside a request); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(pythonjsonlogger.json.JsonFormatter):
    """One JSON object per line (python-json-logger): time, level, logger, message, request_id, extra fields."""

    def __init__(self, **kwargs):
        super().__init__(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "exception",
                           "stack_info": "stack"},
            json_ensure_ascii=False,
            **kwargs,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
