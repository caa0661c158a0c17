"""Scoped rate limits kept in the default cache (Redis in production).

A view names a scope per action (``throttle_scopes = {"confirm": "confirm"}``)
or one for all (``throttle_scope``); the rates live in
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. Actions without a scope are not
limited here.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from ..proxies import client_ip


class ActionScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle whose scope may depend on the viewset action."""

    def allow_request(self, request, view):
        scopes = getattr(view, "throttle_scopes", {})
        self.scope = scopes.get(getattr(view, "action", None)) or getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super(ScopedRateThrottle, self).allow_request(request, view)

    def get_rate(self):
        # Read at call time (not import time) so settings overrides take effect.
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_ident(self, request):
        # DRF's own reads X-Forwarded-For from anyone; only a named proxy may speak for the client.
        return client_ip(request)
