"""Settings of the floor server: the project's settings, minus everything per request.

No middleware, only the floor's URL, and no connection health check (the
floor is one query per request; the product's `SELECT 1` is what the bench
measures against it). Database, cache, logging and secrets come from the
same environment as the product server.
"""

from wingman.settings import *  # noqa: F403
from wingman.settings import DATABASES

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.floor"
DATABASES = {alias: {**config} for alias, config in DATABASES.items()}  # a copy: the product's stays as it is
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
