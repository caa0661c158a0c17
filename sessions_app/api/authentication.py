"""How API callers prove who they are.

JWT bearer tokens (simplejwt) for apps and scripts, the session cookie with
CSRF for the browser, and in development only the X-Test-User-ID header.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions


class TestUserHeaderAuthentication(authentication.BaseAuthentication):
    """Development only: ``X-Test-User-ID: <user id>`` acts as that user.

    Works only while settings.WINGMAN_ALLOW_TEST_USER_HEADER is on, which the
    settings refuse to switch on with DEBUG off.
    """

    header = "X-Test-User-ID"

    def authenticate(self, request):
        if not getattr(settings, "WINGMAN_ALLOW_TEST_USER_HEADER", False) or not settings.DEBUG:
            return None
        raw = request.headers.get(self.header)
        if raw is None:
            return None
        if not raw.strip().isdigit():
            raise exceptions.AuthenticationFailed(f"{self.header} must be a user id.")
        user = get_user_model().objects.filter(pk=int(raw), is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed(f"{self.header} names no active user.")
        return user, None

    def authenticate_header(self, request):
        return self.header
