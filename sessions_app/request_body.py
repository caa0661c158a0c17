"""Only whole request bodies reach a view.

A client that drops the connection halfway through its body leaves the
server fewer bytes than its Content-Length announced. Django hands a view
whatever arrived, and a cut-off notes text is still valid text, so it was
saved. A chunked body (Transfer-Encoding, no Content-Length) is read by
Django as empty, so a valid request was misread as one without fields.

WholeBodyMiddleware, early in MIDDLEWARE, settles both for every endpoint
before anything parses the body: it reads the announced number of bytes and
refuses the request (400 ``incomplete_body``) when fewer arrive, refuses a
Content-Length that is not a number (400 ``invalid_content_length``), and
refuses chunked bodies (411 ``length_required``). Bodies larger than
DATA_UPLOAD_MAX_MEMORY_SIZE are left unread for the usual 413.
Under /api/ the answer is problem+json, elsewhere the readable 400 page.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.shortcuts import render


@dataclass(frozen=True)
class BodyRefusal:
    status: int
    code: str
    heading: str
    detail: str


def body_refusal(request: HttpRequest) -> BodyRefusal | None:
    """Why this request's body cannot be trusted, or None when it arrived whole (reads it, at most once)."""
    if request.META.get("HTTP_TRANSFER_ENCODING"):
        return BodyRefusal(411, "length_required", "Length required",
                           "Send the body with a Content-Length header; chunked transfer encoding is not accepted.")
    announced = request.META.get("CONTENT_LENGTH", "").strip()
    if not announced:
        return None
    if not announced.isdigit():
        return BodyRefusal(400, "invalid_content_length", "Invalid Content-Length",
                           "The Content-Length header is not a number of bytes.")
    length = int(announced)
    if length == 0 or length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return None
    try:
        received = len(request.body)
    except (OSError, UnreadablePostError):
        received = None
    if received != length:
        return BodyRefusal(400, "incomplete_body", "The request arrived incomplete",
                           f"The body ended before the {length} bytes its Content-Length announced; "
                           "nothing was changed. Send it again.")
    return None


def refusal_response(request: HttpRequest, refusal: BodyRefusal) -> HttpResponse:
    if request.path.startswith("/api/"):
        from .api.problems import problem_response

        return problem_response(request, status=refusal.status, code=refusal.code, detail=refusal.detail)
    context = {"heading": refusal.heading, "reason": refusal.detail}
    return render(request, "400.html", context, status=refusal.status)


class WholeBodyMiddleware:
    """Refuses incomplete, chunked or mislabelled bodies before any other middleware reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = body_refusal(request)
        if refusal is not None:
            return refusal_response(request, refusal)
        return self.get_response(request)
