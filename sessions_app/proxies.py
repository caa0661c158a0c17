"""Which peer may speak for the client: forwarded headers from a named proxy only.

One setting, ``FORWARDED_ALLOW_IPS`` (addresses or networks, comma-separated;
empty by default), names the reverse proxies. gunicorn.conf.py reads the same
variable for gunicorn's own ``forwarded_allow_ips``, so the server and Django
agree on whom to believe.

- ``ForwardedHeadersMiddleware`` drops every ``X-Forwarded-*`` header a request
  carries unless its direct peer (``REMOTE_ADDR``) is a named proxy, so
  ``SECURE_PROXY_SSL_HEADER`` and anything else reading them only ever see
  what the proxy wrote.
- ``client_ip`` is the client's address for login limits and throttles:
  ``REMOTE_ADDR``, or behind a named proxy the right-most address in
  ``X-Forwarded-For`` that is not itself a named proxy.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(names: tuple[str, ...]) -> tuple[Network, ...] | None:
    """The named proxies as networks; None means "*" (every peer is trusted)."""
    if "*" in names:
        return None
    return tuple(ipaddress.ip_network(name, strict=False) for name in names)


def is_trusted_proxy(address: str | None) -> bool:
    names = tuple(settings.FORWARDED_ALLOW_IPS)
    if not names or not address:
        return False
    networks = _networks(names)
    if networks is None:
        return True
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless that is a named proxy which forwarded the client's."""
    remote = request.META.get("REMOTE_ADDR")
    if not is_trusted_proxy(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    # Each proxy appends the peer it saw; walk back past our own proxies only.
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return _valid_ip(hop) or remote
    return remote


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class ForwardedHeadersMiddleware:
    """Forget X-Forwarded-* headers that did not come from a named proxy (must run before SecurityMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forget_untrusted_forwarded_headers(request.META)
        return self.get_response(request)


def forget_untrusted_forwarded_headers(meta: dict) -> None:
    """Drop the X-Forwarded-* headers of a request (its WSGI environ) unless a named proxy sent them."""
    if not is_trusted_proxy(meta.get("REMOTE_ADDR")):
        for key in [key for key in meta if key.startswith("HTTP_X_FORWARDED_")]:
            del meta[key]
