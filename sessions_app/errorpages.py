"""Friendly error pages, and problem+json for the same errors under /api/.

Registered in wingman/urls.py as handler400/403/404/500. The 500 page is
rendered without a request context so that it cannot fail on whatever
broke the request in the first place.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _problem(request: HttpRequest, *, status: int, code: str, title: str, detail: str) -> HttpResponse:
    try:
        from sessions_app.api.problems import problem_response
    except ImportError:  # the API's own renderer is optional for the pages
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
                "instance": request.path, "code": code}
        return JsonResponse(body, status=status, content_type="application/problem+json")
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


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _problem(request, status=500, code="server_error", title="Server error",
                        detail="Something went wrong on our side; it has been logged.")
    return HttpResponseServerError(loader.get_template("500.html").render())
