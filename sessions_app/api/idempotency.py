"""Idempotency-Key on mutations: the first answer is stored and replayed.

The record is inserted first, in the same transaction as the work, so the
unique (user, key) constraint makes a concurrent repeat wait for the first
request and then replay its answer instead of doing the work twice. A
server error rolls the record back with the work, so the client may retry.
Keys older than 24 hours are forgotten.
"""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ..models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)
REPLAYED_HEADERS = ("ETag", "Location", "Cache-Control")


def _check_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise ValidationError({HEADER: ["Must be 1 to 255 printable ASCII characters."]})
    return key


def request_fingerprint(request) -> str:
    """Method, path and the parsed body: the same request sent again hashes the same."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
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


def idempotent(handler):
    """Decorate a viewset mutation so an Idempotency-Key makes it run at most once."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return handler(view, request, *args, **kwargs)
        key = _check_key(raw_key)
        fingerprint = request_fingerprint(request)
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
