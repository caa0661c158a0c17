"""Content-Security-Policy: django-csp's middleware with exceptions scoped to paths.

CONTENT_SECURITY_POLICY (settings) is the strict policy of every response.
CSP_PATH_EXCEPTIONS adds sources to it for the HTML pages under a path prefix
(the first prefix that matches wins), for third-party pages that cannot do
without them; each exception says why in settings. Other responses under the
same prefix (the JSON API under /api/) keep the strict policy.

The header is the same for every response of one scope (the exception that
applies, if any) unless a view decorated its response or a template asked
for a nonce, so it is built once per scope and reused (django-csp builds it
from the settings on every response, which cost about a fifth of answering
/healthz). A changed setting (tests) clears what was built.
"""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view or decorator may set on a response to change its policy (django-csp's decorators).
_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
                 "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro")
_built: dict = {}  # scope -> {header name: value} as django-csp set them


@receiver(setting_changed)
def _forget_built_headers(*, setting, **kwargs):
    if setting.startswith(("CONTENT_SECURITY_POLICY", "CSP_", "DEBUG")):
        _built.clear()


class ScopedCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        extra = _exception(request, response)
        if extra:
            parts.update = {**extra, **(parts.update or {})}  # (a view's own @csp_update on top)
        return parts

    def process_response(self, request, response):
        if (settings.DEBUG or _excludes_paths() or getattr(request, "_csp_nonce", None) is not None
                or any(hasattr(response, name) for name in _PER_RESPONSE)
                or HEADER in response or HEADER_REPORT_ONLY in response):
            return super().process_response(request, response)
        scope = _scope(request, response)
        headers = _built.get(scope)
        if headers is None:
            response = super().process_response(request, response)
            _built[scope] = {name: response[name] for name in (HEADER, HEADER_REPORT_ONLY) if name in response}
            return response
        for name, value in headers.items():
            response[name] = value
        # As django-csp does: a nonce asked for after the header was written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def _scope(request, response) -> str | None:
    """The path prefix whose exception applies to this response, or None for the strict policy."""
    if not _is_html(response):
        return None
    for prefix in getattr(settings, "CSP_PATH_EXCEPTIONS", {}):
        if request.path_info.startswith(prefix):
            return prefix
    return None


def _exception(request, response) -> dict | None:
    scope = _scope(request, response)
    return None if scope is None else settings.CSP_PATH_EXCEPTIONS[scope]


def _excludes_paths() -> bool:
    """Whether a policy leaves some paths out (django-csp's EXCLUDE_URL_PREFIXES): then the path decides."""
    return any((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
               for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"))


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")
