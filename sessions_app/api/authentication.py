"""How API callers prove who they are.

JWT bearer tokens (simplejwt) for apps and scripts, the session cookie with
CSRF for the browser, and in development only the X-Test-User-ID header.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.utils import aware_utcnow

from ..lru import Lru
from ..selectors import user_with_profile


class _UsersWithProfile:
    """The part of a user model JWTAuthentication.get_user uses: the user with the profile.

    ``get`` is selectors.user_with_profile: no query while Redis holds a
    current copy, which every change to the user (a new password, a
    deactivation) makes stale before it commits, so simplejwt's checks of
    ``is_active`` and of the password claim (CHECK_REVOKE_TOKEN) still see
    the committed user.
    """

    class _Manager:
        def __init__(self, model):
            self.model = model

        def get(self, **lookup):
            (user_id,) = lookup.values()
            user = user_with_profile(user_id)
            if user is None:
                raise self.model.DoesNotExist
            return user

    def __init__(self, model):
        self.objects = self._Manager(model)
        self.DoesNotExist = model.DoesNotExist


class ProfileJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, loading the user with the profile (or its current copy).

    A token whose signature and claims this process has checked once is kept
    (``VALIDATED_TOKENS_KEPT`` of them, the least recently used dropped) and
    only its expiry is checked again: an API client sends the same token on
    every request until it expires, and decoding it again cost more than
    answering a 304. What revokes a token (a new password, a deactivated
    user) is checked against the user on every request, as before.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithProfile(get_user_model())

    def get_validated_token(self, raw_token: bytes):
        token = _validated.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())
            except TokenError as error:
                _validated.drop(raw_token)
                raise InvalidToken({  # simplejwt's own answer for an expired token
                    "detail": _("Given token not valid for any token type"),
                    "messages": [{"token_class": type(token).__name__, "token_type": token.token_type,
                                  "message": error.args[0]}],
                }) from None
            return token
        token = super().get_validated_token(raw_token)
        _validated.put(raw_token, token)
        return token


VALIDATED_TOKENS_KEPT = 2_000
_validated = Lru(VALIDATED_TOKENS_KEPT)  # raw token -> its validated AccessToken, per process


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
