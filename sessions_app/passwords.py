"""A password change signs the user out of every API client.

Django calls ``password_changed(password, user)`` on each entry of
AUTH_PASSWORD_VALIDATORS from ``AbstractBaseUser.save()`` whenever
``set_password()`` preceded the save. That one hook catches every way a
password changes: the admin's password form, ``manage.py changepassword``,
Django's password change and reset forms, and any code that calls
``set_password()`` then ``save()``. A service would be bypassed by the admin
and the command; a post_save signal cannot tell a password change from any
other save. (Assigning ``user.password`` directly or a queryset ``update()``
bypasses it, as it bypasses Django's own bookkeeping.)
"""

from . import services


class RevokeTokensOnPasswordChange:
    """Not a check on the password itself: revokes the user's refresh tokens once a new one is saved."""

    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user) -> None:
        if user.pk is not None:
            services.user_tokens_revoke(user=user)

    def get_help_text(self) -> str:
        return "Changing your password signs you out of every app that uses the API."
