"""How API callers prove who they are.

JWT bearer tokens (simplejwt) for apps and scripts, the session cookie with
CSRF for the browser, and in development only the X-Test-User-ID header.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication


class _UsersWithProfile:
    """The part of a user model JWTAuthentication.get_user uses, with the profile joined in."""

    def __init__(self, model):
        self.objects = model._default_manager.select_related("profile")
        self.DoesNotExist = model.DoesNotExist


class ProfileJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, loading the profile in the same query as the user."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithProfile(get_user_model())


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
