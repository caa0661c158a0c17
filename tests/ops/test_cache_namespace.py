"""The test suite's cache reset: a key prefix per test, and at the end only that prefix's keys deleted.

Runs a small test file through pytest in a subprocess (a real test run with
this repository's cache fixtures) against the configured Redis database, next to a
key that the tests did not write.
"""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from ..conftest import delete_keys_under_prefix, require_or_skip

ROOT = Path(__file__).resolve().parents[2]

# Writes through every cache path the suite relies on, and records what it saw.
INNER_TEST = '''
import json
import os

from django.core.cache import cache
from django.conf import settings
from django_redis import get_redis_connection


def test_it_writes_keys(go_cold):
    seen = {"prefixes": [settings.CACHES["default"]["KEY_PREFIX"]]}
    cache.set("session:v1:demo", "a session", 60)
    cache.incr_version("session:v1:demo")  # now under version 2
    go_cold()
    seen["prefixes"].append(settings.CACHES["default"]["KEY_PREFIX"])
    seen["cold_read"] = cache.get("session:v1:demo")
    cache.set("throttle_confirm_1", [1.0], 60)
    redis = get_redis_connection("default")
    seen["written"] = sorted(k.decode() for p in seen["prefixes"] for k in redis.scan_iter(match=p + ":*"))
    with open(os.environ["SEEN_FILE"], "w") as out:
        json.dump(seen, out)
'''


# The inner run gets every fixture of tests/conftest.py, autouse ones included, whatever they are named.
INNER_CONFTEST = (
    "import tests.conftest\n"
    "globals().update({k: v for k, v in vars(tests.conftest).items() if not k.startswith('__')})\n"
)


@pytest.fixture
def raw_redis():
    """A plain redis client on the configured database, outside Django's cache and its prefix."""
    require_or_skip(bool(settings.REDIS_URL), "REDIS_URL is not set: nothing to protect in a local-memory cache",
                    "WINGMAN_REQUIRE_POSTGRES")  # CI sets REDIS_URL together with WINGMAN_REQUIRE_POSTGRES
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


def test_it_deletes_only_its_own_keys(raw_redis, tmp_path):
    foreign = f"someone-else:{uuid.uuid4().hex}"
    raw_redis.set(foreign, "not the tests' key")
    try:
        test_file = tmp_path / "test_inner.py"
        test_file.write_text(textwrap.dedent(INNER_TEST))
        (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
        seen_file = tmp_path / "seen.json"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTEST_XDIST_WORKER",
                                                                 "PYTEST_ADDOPTS")}
        env["SEEN_FILE"] = str(seen_file)
        # SQLite (in memory) for the inner run, so it never touches this run's test database.
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
             "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), str(test_file)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        seen = json.loads(seen_file.read_text())

        first, second = seen["prefixes"]
        assert first != second and seen["cold_read"] is None  # go_cold gave an empty cache
        assert seen["written"] == sorted([f"{first}:2:session:v1:demo", f"{second}:1:throttle_confirm_1"])
        for prefix in seen["prefixes"]:
            assert list(raw_redis.scan_iter(match=f"{prefix}:*")) == []  # the run deleted its own keys...
        assert raw_redis.get(foreign) == b"not the tests' key"  # ...and nothing else
    finally:
        raw_redis.delete(foreign)
    assert raw_redis.exists(foreign) == 0


def test_it_cleans_up_where_the_keys_went_after_a_test_repointed_the_cache(cache_namespace, settings, raw_redis):
    """A test may point CACHES at another Redis (say, one it stopped): cleanup still reaches its own keys."""
    from django.core.cache import cache

    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    cache.set("throttle_confirm_1", [1.0], 60)
    assert list(raw_redis.scan_iter(match=f"{prefix}:*")) == [f"{prefix}:1:throttle_confirm_1".encode()]
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    cache_namespace.erase()
    assert list(raw_redis.scan_iter(match=f"{prefix}:*")) == []


def test_it_deletes_only_its_prefix_from_a_local_memory_cache():
    """Without REDIS_URL the same cleanup runs on the local-memory cache, also by prefix."""
    from django.core.cache import CacheHandler

    location = f"cleanup-{uuid.uuid4().hex}"

    def cache_with(prefix):
        backend = "django.core.cache.backends.locmem.LocMemCache"
        return CacheHandler({"default": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": prefix}})["default"]

    mine, theirs = cache_with("mine"), cache_with("theirs")
    mine.set_many({"session:v1:a": 1, "throttle_confirm_1": [1.0]})
    theirs.set("session:v1:a", "keep")
    assert delete_keys_under_prefix(mine, "mine") == 2
    assert mine.get_many(["session:v1:a", "throttle_confirm_1"]) == {}
    assert theirs.get("session:v1:a") == "keep"
