"""Friendly error pages, and problem+json for the same errors under /api/.

Registered in wingman/urls.py as handler400/403/404/500. The 500 and 503
pages are rendered without a request context so that they cannot fail on
whatever broke the request in the first place. ``service_unavailable`` is the
answer to a database fault (see sessions_app/unavailable.py).
"""

import sys

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from .api.problems import problem_response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _problem(request: HttpRequest, *, status: int, code: str, title: str, detail: str) -> HttpResponse:
    return problem_response(request, status=status, code=code, title=title, detail=detail)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return _problem(request, status=400, code="bad_request", title="Bad request",
                        detail="The request could not be understood.")
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """The 403 page; it says why in general terms and shows nothing of the object."""
    if _is_api(request):
        return _problem(request, status=403, code="forbidden", title="Forbidden",
                        detail="You do not have permission to do that.")
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return _problem(request, status=404, code="not_found", title="Not found",
                        detail="Nothing is found at this address.")
    return render(request, "404.html", status=404)


def service_unavailable(request: HttpRequest, fault) -> HttpResponse:
    """503 with Retry-After: the database is busy or unreachable; the client should simply try again."""
    if _is_api(request):
        response = _problem(request, status=503, code=fault.code, title=fault.title, detail=fault.detail)
    else:
        response = HttpResponse(loader.get_template("503.html").render({"fault": fault}), status=503)
    response["Retry-After"] = str(fault.retry_after)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    from sessions_app.unavailable import database_fault

    # Django calls this while handling the exception, so it is still at hand:
    # a database fault outside any view (in a middleware) gets the 503 too.
    fault = database_fault(sys.exc_info()[1])
    if fault is not None:
        return service_unavailable(request, fault)
    if _is_api(request):
        return _problem(request, status=500, code="server_error", title="Server error",
                        detail="Something went wrong on our side; it has been logged.")
    return HttpResponseServerError(loader.get_template("500.html").render())
