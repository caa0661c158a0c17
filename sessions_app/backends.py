"""The logged-in user arrives with the profile, saving a query on every request.

Pages and API read the viewer's time zone and counters on almost every
request; loading the profile in the same query as the user keeps session
reads within their query budget; when Redis holds a current copy
(sessions_app/freshness.py) there is no query at all.
"""

from django.contrib.auth.backends import ModelBackend

from .selectors import user_with_profile


class ProfileModelBackend(ModelBackend):
    def get_user(self, user_id):
        user = user_with_profile(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
