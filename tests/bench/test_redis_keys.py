"""The bench deletes only the Redis keys under its own prefix (SCAN, never FLUSHDB)."""

import os
import secrets

import pytest

from bench import redis_keys
from tests.conftest import require_or_skip


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    require_or_skip(url.startswith("redis://"), "needs Redis (REDIS_URL)", "WINGMAN_REQUIRE_POSTGRES")
    return url


def test_it_deletes_its_own_keys_and_nothing_else(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    prefix = redis_keys.new_prefix()
    neighbour = f"{prefix}x"  # starts with the same letters, but is another prefix
    other = f"other_{secrets.token_hex(4)}"
    mine = [f"{prefix}:1:session:v1:a", f"{prefix}:1:throttle_confirm_7"]
    theirs = [f"{neighbour}:1:a", f"{other}:1:a", prefix]
    try:
        for key in mine + theirs:
            client.set(key, b"x", ex=60)
        assert redis_keys.delete_prefixed(redis_url, prefix) == 2
        assert [client.exists(key) for key in mine] == [0, 0]
        assert [client.exists(key) for key in theirs] == [1, 1, 1]
    finally:
        client.delete(*mine, *theirs)  # exactly the keys this test wrote


@pytest.mark.parametrize("prefix", ["", "wingman:1", "a:b"])
def test_it_refuses_what_is_not_a_prefix(prefix):
    with pytest.raises(ValueError):
        redis_keys.delete_prefixed("redis://127.0.0.1:1/0", prefix)


def test_it_escapes_glob_characters():
    assert redis_keys._glob_escape("a*b?[c]") == r"a\*b\?\[c\]"
