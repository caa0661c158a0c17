"""The bench's Redis keys: all under a key prefix of its own, deleted by SCAN of that prefix.

Never FLUSHDB: the Redis database index may be shared, and only keys that
start with the bench's own prefix are the bench's.
"""

import re
import secrets

import redis


def new_prefix() -> str:
    return f"wingman_bench_{secrets.token_hex(4)}"


def _glob_escape(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def delete_prefixed(url: str, prefix: str) -> int:
    """Delete every key that Django's cache wrote under `prefix` ("<prefix>:<version>:<key>"); returns how many."""
    if not prefix or ":" in prefix:
        raise ValueError(f"not a bench key prefix: {prefix!r}")
    client = redis.Redis.from_url(url)
    deleted = 0
    batch = []
    for key in client.scan_iter(match=f"{_glob_escape(prefix)}:*", count=1000):
        batch.append(key)
        if len(batch) == 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    client.close()
    return deleted
