"""Test run: the project's settings with DEBUG-level safeguards for plain HTTP.

What differs from wingman/settings.py: DEBUG defaults on (so the
SSL redirect and secure cookies stay off for the test client and the live
server), passwords hash fast, and static files come from their source folders.
"""

import os

os.environ.setdefault("DEBUG", "1")

from wingman.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests serve static files from their source folders (as in development),
# never from a collectstatic run.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
