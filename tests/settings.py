"""Test run: the project's settings with DEBUG-level safeguards for plain HTTP.

Only two things differ from wingman/settings.py: DEBUG defaults on (so the
SSL redirect and secure cookies stay off for the test client and the live
server), and passwords hash fast.
"""

import os

os.environ.setdefault("DEBUG", "1")

from wingman.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
