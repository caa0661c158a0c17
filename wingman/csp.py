"""Content-Security-Policy: django-csp's middleware with exceptions scoped to paths.

CONTENT_SECURITY_POLICY (settings) is the strict policy of every response.
CSP_PATH_EXCEPTIONS adds sources to it for the HTML pages under a path prefix
(the first prefix that matches wins), for third-party pages that cannot do
without them; each exception says why in settings. Other responses under the
same prefix (the JSON API under /api/) keep the strict policy.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings


class ScopedCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only or not _is_html(response):
            return parts
        for prefix, extra in getattr(settings, "CSP_PATH_EXCEPTIONS", {}).items():
            if request.path_info.startswith(prefix):
                parts.update = {**extra, **(parts.update or {})}  # (a view's own @csp_update on top)
                break
        return parts


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")
