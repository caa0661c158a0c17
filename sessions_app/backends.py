"""The logged-in user arrives with the profile, saving a query on every request.

Pages and API read the viewer's time zone and counters on almost every
request; loading the profile in the same query as the user keeps session
reads within their query budget.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ProfileModelBackend(ModelBackend):
    def get_user(self, user_id):
        User = get_user_model()
        user = User._default_manager.select_related("profile").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
