"""Lua scripts run in Redis by their SHA1 (EVALSHA) instead of sent whole with every call (EVAL).

Redis hashes and parses a script sent with EVAL on every call: for the
session lookup of every read, that was most of Redis's own CPU per request.
redis-py's Script sends the SHA1 and, when Redis has lost the script (a
restart, SCRIPT FLUSH), loads it again and retries, so nothing else changes.
"""

from redis.commands.core import Script

_scripts: dict[str, Script] = {}  # source -> its Script (the SHA1 is computed once per process)


def run(client, source: str, keys, args=()):
    """The script's answer, run with ``keys`` and ``args`` through ``client`` (a redis-py client)."""
    script = _scripts.get(source)
    if script is None:
        script = _scripts[source] = Script(client, source)
    return script(keys=keys, args=args, client=client)
