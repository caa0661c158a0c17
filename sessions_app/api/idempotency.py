"""Idempotency-Key on mutations: the first answer is stored and replayed.

The record is inserted first, in the same transaction as the work, so the
unique (user, key) constraint makes a concurrent repeat wait for the first
request and then replay its answer instead of doing the work twice. A
server error rolls the record back with the work, so the client may retry.
Keys older than 24 hours are forgotten: a keyed request first deletes its
user's expired records, and ``expired_records_purge`` (the hourly Celery
task, or ``manage.py purge_idempotency_records``) deletes everyone's, so
the table holds about one day of keyed mutations.

Closing the account (DELETE /api/me/) is idempotent too, although a repeat
cannot sign in any more: ``erased_account_replay`` answers it from the
record the erasure kept, for the account the repeat's credential names.
"""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.contrib.auth import SESSION_KEY
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from ..batches import delete_oldest_in_batches
from ..logins import http_request
from ..models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)
REPLAYED_HEADERS = ("ETag", "Location", "Cache-Control")


def expired_records_purge(*, now=None, batch: int = 5_000) -> int:
    """Delete every record older than KEY_LIFETIME, oldest first, in batches; how many went. Safe to run
    often and concurrently."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    return delete_oldest_in_batches(IdempotencyRecord.objects.filter(created_at__lt=cutoff),
                                    oldest_first="created_at", batch=batch)


def _check_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise ValidationError({HEADER: ["Must be 1 to 255 printable ASCII characters."]})
    return key


def request_fingerprint(request, leave_out: tuple = ()) -> str:
    """Method, path and the parsed body: the same request sent again hashes the same.

    Fields in ``leave_out`` (a password) are not hashed: the record outlives the request.
    """
    data = request.data
    if leave_out and isinstance(data, dict):
        data = {name: value for name, value in data.items() if name not in leave_out}
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _store(record: IdempotencyRecord, response) -> None:
    if isinstance(response, Response):
        body = JSONRenderer().render(response.data) if response.data is not None else b""
        content_type = "application/json"
    else:
        body = bytes(response.content)
        content_type = response.get("Content-Type", "application/json")
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    headers["Content-Type"] = content_type
    record.response_status = response.status_code
    record.response_body = body
    record.response_headers = headers
    record.save(update_fields=["response_status", "response_body", "response_headers"])


def _replay(record: IdempotencyRecord, request, fingerprint: str) -> HttpResponse:
    if record.request_hash != fingerprint:
        raise ValidationError(
            {HEADER: ["This key was already used for a different request; use a new key for a new request."]},
            code="idempotency_key_reused",
        )
    headers = dict(record.response_headers)
    response = HttpResponse(bytes(record.response_body), status=record.response_status,
                            content_type=headers.pop("Content-Type", "application/json"))
    for name, value in headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(handler=None, *, leave_out: tuple = ()):
    """Decorate a viewset mutation so an Idempotency-Key makes it run at most once.

    ``@idempotent``, or ``@idempotent(leave_out=("password",))`` to keep body fields out of the record.
    """
    if handler is None:
        return lambda handler: idempotent(handler, leave_out=leave_out)

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return handler(view, request, *args, **kwargs)
        key = _check_key(raw_key)
        fingerprint = request_fingerprint(request, leave_out)
        with transaction.atomic():
            IdempotencyRecord.objects.filter(
                user=request.user, created_at__lt=timezone.now() - KEY_LIFETIME
            ).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request.user, key=key, method=request.method, path=request.path[:500],
                        request_hash=fingerprint,
                    )
            except IntegrityError:
                record = IdempotencyRecord.objects.get(user=request.user, key=key)
                return _replay(record, request, fingerprint)
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:
                response = view.handle_exception(exc)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            _store(record, response)
            return response

    return wrapper


def _credential_user_id(request):
    """The account a request's credential names, whether or not it can still sign in: a bearer token's
    user id (its signature and expiry checked), else the session cookie's user."""
    jwt = JWTAuthentication()
    header = jwt.get_header(request)
    if header is not None:
        raw = jwt.get_raw_token(header)
        try:
            return jwt.get_validated_token(raw).get(jwt_settings.USER_ID_CLAIM) if raw else None
        except InvalidToken:
            return None
    session = getattr(http_request(request), "session", None)
    return session.get(SESSION_KEY) if session is not None else None


def erased_account_replay(request, leave_out: tuple = ()) -> HttpResponse | None:
    """The stored answer to a repeat of closing an account, or None.

    Once closed, the account's credentials no longer sign in, so the repeat is
    refused before the view runs; this answers it instead, from the record of
    the same request (key, method, path, body) of the account its credential
    names, if that account is closed and the key is within its lifetime.
    """
    raw_key = request.headers.get(HEADER)
    user_id = _credential_user_id(request) if raw_key else None
    if user_id is None:
        return None
    record = IdempotencyRecord.objects.filter(
        user_id=user_id, user__is_active=False, key=_check_key(raw_key), method=request.method,
        path=request.path[:500], response_status__isnull=False, created_at__gte=timezone.now() - KEY_LIFETIME,
    ).first()
    return _replay(record, request, request_fingerprint(request, leave_out)) if record else None
