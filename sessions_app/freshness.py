"""When a copy in Redis may answer for rows in PostgreSQL: generations, marked before every commit.

Reads of a session and of the signed-in user are served from Redis without
a query when the copy there is known to be current. Every session and every
user has a *generation* in Redis, a random token. A copy is stored with the
generations it was read under and is used only while they are still the
current ones.

A writer, inside its transaction and before it commits, sets the generation
of each session and user it changes to a *writing* token ("w:..."): a copy
is never stored while a generation is writing, and no stored copy carries a
writing token, so from that moment no copy is used. After the commit the
writer replaces its writing token with a new generation, so copies can be
stored again. If marking fails, the write is refused (``CacheUnavailable``,
a 503 "try again": nothing was changed); if the replacement after the
commit fails, the writing token expires after ``WRITING_SECONDS`` and reads
go to the database until then. Either way no read can show data older
than a committed write: a stale copy would need a generation that did not
change across the write, and every write changes it before it commits.

A reader that finds no usable copy reads the database; it stores what it
read only if it saw current, non-writing generations *before* its query
(they are fetched in the same Redis call as the copy). Missing generations
are created then, so the next read can store. A session's two participants
never change; the first read records them, so later lookups fetch the
session's and both users' generations and the copy in one round trip (a
Lua script, so keys are computed on the server: this needs one Redis, not
a cluster).

Only with a cache shared by every process (Redis: settings.FRESHNESS_MARKERS);
with the per-process local-memory cache of development nothing is served
from a copy. Any Redis error on a read falls back to the database.
"""

import contextlib
import contextvars
import hashlib
import logging
import pickle
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver

from . import redis_calls
from .lru import Lru

logger = logging.getLogger(__name__)

WRITING = b"w:"
WRITING_SECONDS = 60  # longer than any web transaction (statement_timeout 5 s, lock_timeout 2 s)
GENERATION_SECONDS = 24 * 3600
COPY_SECONDS = 300

# Before a commit: each key's generation becomes the writer's token (ARGV[1]), for ARGV[2] seconds.
_MARK = """
for _, key in ipairs(KEYS) do
    redis.call('SET', key, ARGV[1], 'EX', tonumber(ARGV[2]))
end
return 0
"""

# After a commit: replace our writing token, or a generation someone created after our token expired
# (that generation may tag a copy read before the commit). Leave another writer's token alone.
_RELEASE = """
for i, key in ipairs(KEYS) do
    local now = redis.call('GET', key)
    if now == ARGV[1] or (now and string.sub(now, 1, 2) ~= 'w:') then
        redis.call('SET', key, ARGV[i + 1], 'EX', tonumber(ARGV[#ARGV]))
    end
end
return 0
"""

# One round trip for a session read: the copy, the session's generation, its participants, and theirs.
# With ARGV[2] (the users' copy prefix) also both participants' copies, and any keys after the third
# (see ``prefetch``).
_SESSION_LOOKUP = """
local copy = redis.call('GET', KEYS[1])
local generation = redis.call('GET', KEYS[2])
local people = redis.call('GET', KEYS[3])
local first, second, copy1, copy2 = false, false, false, false
if people then
    local user1, user2 = string.match(people, '^(%d+) (%d+)$')
    first = redis.call('GET', ARGV[1] .. user1)
    second = redis.call('GET', ARGV[1] .. user2)
    if ARGV[2] then
        copy1 = redis.call('GET', ARGV[2] .. user1)
        copy2 = redis.call('GET', ARGV[2] .. user2)
    end
end
if not ARGV[2] then
    return {copy, generation, people, first, second}
end
local answer = {copy, generation, people, first, second, copy1, copy2}
for i = 4, #KEYS do
    answer[#answer + 1] = redis.call('GET', KEYS[i])
end
return answer
"""


class CacheUnavailable(Exception):
    """The generations could not be marked before a commit: the write must not happen (503, retry)."""


def enabled() -> bool:
    return settings.FRESHNESS_MARKERS


def _client():
    return _connection()[0]


def _key(name: str) -> str:
    return _connection()[1] + name


_connected: tuple | None = None


def _connection() -> tuple:
    """The Redis client and our keys' prefix, looked up once per process (going through
    django.core.cache.caches and the settings on every call cost a tenth of a cached read)."""
    global _connected
    if _connected is None:
        from django_redis import get_redis_connection

        _connected = (get_redis_connection("default"), cache.make_key(""))
    return _connected


@receiver(setting_changed)
def _forget_connection(*, setting, **kwargs):
    global _connected
    if setting == "CACHES":
        _connected = None


def session_key(session_id) -> str:
    return _key(f"fresh:s:{session_id}")


def user_key(user_id) -> str:
    return _key(f"fresh:u:{user_id}")


def sessions_of_key(user_id) -> str:
    """The generation of everything in the user's list of sessions (any of them changed, added, removed)."""
    return _key(f"fresh:l:{user_id}")


def _new_generation() -> bytes:
    return secrets.token_hex(8).encode()


def _usable(generation) -> bool:
    return generation is not None and not generation.startswith(WRITING)


# --- writers ------------------------------------------------------------------------


def writing(*, sessions=(), users=(), sessions_of=()):
    """Mark these sessions and users (and the lists of sessions of ``sessions_of``) as being written, before
    the write commits.

    Inside a transaction (every service) the marks are released when it
    commits. Outside one (a model saved in autocommit mode) the write commits
    by itself, so the caller gets the release back and calls it once the write
    is done. Raises CacheUnavailable, so no write happens, when Redis cannot
    be told.
    """
    if not enabled():
        return None
    keys = sorted({session_key(pk) for pk in sessions} | {user_key(pk) for pk in users if pk is not None}
                  | {sessions_of_key(pk) for pk in sessions_of if pk is not None})
    if not keys:
        return None
    token = WRITING + secrets.token_hex(8).encode()
    try:
        redis_calls.script(_client(), _MARK, keys, [token, WRITING_SECONDS])
    except Exception as error:  # any Redis failure: we cannot promise fresh reads, so no write
        logger.warning("could not mark %d keys as writing: %s", len(keys), error)
        raise CacheUnavailable() from error
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _release(keys, token))
        return None
    return lambda: _release(keys, token)


def _release(keys: list, token: bytes) -> None:
    try:
        redis_calls.script(_client(), _RELEASE, keys, [token, *[_new_generation() for _ in keys], GENERATION_SECONDS])
    except Exception:  # the writing tokens expire on their own; reads use the database until then
        logger.warning("could not release %d writing keys", len(keys), exc_info=True)


# --- readers ------------------------------------------------------------------------


class Lookup:
    """What one Redis call found for a read: the copy (when current), and whether a new copy may be stored."""

    def __init__(self, key: str, tags: tuple | None, value=None, missing=(), people_key: str | None = None):
        self.key = key
        self.tags = tags  # the generations seen before the database read; None: do not store
        self.value = value
        self.missing = missing  # generation keys to create
        self.people_key = people_key

    def store(self, value, *, people: tuple | None = None) -> None:
        """Keep ``value`` (read from the database after this lookup) for later reads, when that is safe."""
        if self.tags is None and not self.missing and not (self.people_key and people):
            return  # nothing may be kept (Redis did not answer the lookup, or its generations are being written)
        try:
            client = _client()
            pipe = client.pipeline(transaction=False)
            for key in self.missing:
                pipe.set(key, _new_generation(), ex=GENERATION_SECONDS, nx=True)
            if self.people_key and people:
                pipe.set(self.people_key, f"{people[0]} {people[1]}", ex=GENERATION_SECONDS)
            if self.tags is not None:
                pipe.set(self.key, pickle.dumps((self.tags, value), pickle.HIGHEST_PROTOCOL), ex=COPY_SECONDS)
            pipe.execute()
        except Exception:
            logger.warning("could not store a copy under %s", self.key, exc_info=True)


_NOTHING = Lookup("", None)


def _unpickled(copy: bytes | None, tags: tuple, *, shared: bool = False):
    """The value in ``copy`` if it was stored under ``tags``.

    ``shared``: for a caller that only reads the objects, the same objects
    for the same bytes, kept per process (``SHARED_COPIES_KEPT``), instead
    of unpickling them again: the bytes are the whole copy, tags included,
    so equal bytes are an equal copy.
    """
    if copy is None:
        return None
    if shared:
        kept = _shared.get(copy)
        if kept is None:
            kept = pickle.loads(copy)  # noqa: S301 (our own Redis, written by Lookup.store)
            _shared.put(copy, kept)
        stored_tags, value = kept
    else:
        stored_tags, value = pickle.loads(copy)  # noqa: S301 (our own Redis, written by Lookup.store)
    return value if stored_tags == tags else None


SHARED_COPIES_KEPT = 256  # a session copy with both participants is about 3 KB of bytes, 15 KB unpickled
_shared = Lru(SHARED_COPIES_KEPT)  # a copy's bytes -> its unpickled (tags, value), for read-only callers


_prefetched: contextvars.ContextVar[dict | None] = contextvars.ContextVar("freshness_prefetched", default=None)
_copies_only: contextvars.ContextVar[bool] = contextvars.ContextVar("freshness_copies_only", default=False)


@contextlib.contextmanager
def prefetch(*, session_id=None, also=(), copies_only: bool = False):
    """Within this block, the first lookups of this session and of its participants take what one Redis call
    found, and the block gets the raw values of the keys in ``also`` (a dict).

    For a request that is about to authenticate one of the participants and
    then read the session (GET of one session): the reader, the session and
    (``also``) the login session's data in one round trip instead of two or
    three. Each prefetched answer is used once, by the first lookup that
    asks for it; any later lookup asks Redis again, so a read after a write
    in the same block is never answered from before the write. Until the
    session's participants are recorded (its first read), only the session
    is fetched ahead.

    ``copies_only``: the caller answers only from current copies (an early
    answer, sessions_app/session_reads.py): a lookup finding none gives
    nothing instead of a database read (``copies_only()``), and since the
    caller never changes what it gets, the objects may be those already
    unpickled from the same bytes (``_unpickled``).

    Without ``session_id`` nothing is fetched ahead (``also`` included): the
    block only sets ``copies_only``. Inside a block (and a block inside it),
    once one Redis call has failed no lookup asks Redis again
    (``prefetch_failed()``).
    """
    if also and session_id is None:
        raise TypeError("prefetch fetches the keys in `also` only with a session's lookup")
    found, extra = {}, {}
    if _prefetched.get() is _REDIS_DOWN:
        found = _REDIS_DOWN
    elif enabled() and session_id is not None:
        try:
            answer = redis_calls.script(_client(), _SESSION_LOOKUP, [*_session_keys(session_id), *also],
                                        [user_key(""), _key("copy:u:")])
        except Exception:
            logger.warning("Redis unavailable for the session lookup", exc_info=True)
            found = _REDIS_DOWN  # the block's other lookups go to the database without waiting on Redis again
        else:
            found[("s", str(session_id))] = _session_lookup(session_id, answer[:5], shared=copies_only)
            people = answer[2]
            if people is not None:
                for user_id, generation, copy in zip(people.decode().split(), answer[3:5], answer[5:7], strict=True):
                    found[("u", user_id)] = _user_lookup(user_id, generation, copy, shared=copies_only)
            extra = dict(zip(also, answer[7:], strict=True))
    token, only = _prefetched.set(found), _copies_only.set(copies_only)
    try:
        yield extra
    finally:
        _prefetched.reset(token)
        _copies_only.reset(only)


def copies_only() -> bool:
    """Inside ``prefetch(copies_only=True)``: a read that finds no current copy must not go to the database."""
    return _copies_only.get()


def prefetch_failed() -> bool:
    """Inside ``prefetch``: Redis did not answer its call, so nothing was fetched ahead."""
    return _prefetched.get() is _REDIS_DOWN


_REDIS_DOWN: dict = {}  # what a prefetch block holds when its call failed (a lookup then waits on nothing)


def _failed_in_block() -> None:
    """A lookup's Redis call failed: inside a prefetch block, nothing else in it asks Redis again."""
    if _prefetched.get() is not None:
        _prefetched.set(_REDIS_DOWN)  # the block's own reset ends it


@contextlib.contextmanager
def without_redis():
    """A block in which no lookup asks Redis (they find nothing, so reads go to the database): for the rest
    of a request whose first call to Redis failed, so that it waits out one timeout, not one per lookup."""
    token = _prefetched.set(_REDIS_DOWN)
    try:
        yield
    finally:
        _prefetched.reset(token)


def list_variant(media_type: str, address: str) -> str:
    """The key of one page of a user's list: its links are absolute, so the address as asked (host, scheme,
    query) and the media type it is rendered in name it."""
    return hashlib.sha256(f"{media_type} {address}".encode()).hexdigest()[:32]


def _take_prefetched(kind: str, pk) -> Lookup | None:
    found = _prefetched.get()
    if found is _REDIS_DOWN:
        return _NOTHING
    return found.pop((kind, str(pk)), None) if found else None


def lookup_user(user_id) -> Lookup:
    """The signed-in user's copy (with the profile), current or not, in one round trip."""
    if not enabled():
        return _NOTHING
    prefetched = _take_prefetched("u", user_id)
    if prefetched is not None:
        return prefetched
    try:
        generation, copy = redis_calls.command(_client(), "MGET", user_key(user_id), _key(f"copy:u:{user_id}"))
    except Exception:
        logger.warning("Redis unavailable for the user lookup", exc_info=True)
        _failed_in_block()
        return _NOTHING
    return _user_lookup(user_id, generation, copy)


def _user_lookup(user_id, generation, copy, *, shared: bool = False) -> Lookup:
    generation_key, copy_key = user_key(user_id), _key(f"copy:u:{user_id}")
    if not _usable(generation):
        return Lookup(copy_key, None, missing=[generation_key] if generation is None else [])
    tags = (generation,)
    return Lookup(copy_key, tags, _unpickled(copy, tags, shared=shared))


def _session_keys(session_id) -> tuple[str, str, str]:
    return _key(f"copy:s:{session_id}"), session_key(session_id), _key(f"people:s:{session_id}")


def lookup_session(session_id) -> Lookup:
    """A session's copy (with both participants), current or not, in one round trip."""
    if not enabled():
        return _NOTHING
    prefetched = _take_prefetched("s", session_id)
    if prefetched is not None:
        return prefetched
    try:
        answer = redis_calls.script(_client(), _SESSION_LOOKUP, _session_keys(session_id), [user_key("")])
    except Exception:
        logger.warning("Redis unavailable for the session lookup", exc_info=True)
        _failed_in_block()
        return _NOTHING
    return _session_lookup(session_id, answer)


def _session_lookup(session_id, answer, *, shared: bool = False) -> Lookup:
    copy, generation, people, first, second = answer
    copy_key, generation_key, people_key = _session_keys(session_id)
    if people is None:
        missing = [generation_key] if generation is None else []
        return Lookup(copy_key, None, missing=missing, people_key=people_key)
    user1, user2 = people.split()
    generations = {generation_key: generation, user_key(user1.decode()): first, user_key(user2.decode()): second}
    missing = [key for key, value in generations.items() if value is None]
    if not all(_usable(value) for value in generations.values()):
        return Lookup(copy_key, None, missing=missing)
    tags = (generation, first, second)
    return Lookup(copy_key, tags, _unpickled(copy, tags, shared=shared))


# --- a user's list of sessions -------------------------------------------------------------

# The copy of one list page (a field of the reader's hash of pages), the generations of the reader's list and
# of the reader, and of every person the reader's earlier pages showed (recorded by the reads that stored them).
_LIST_LOOKUP = """
local answer = {redis.call('HGET', KEYS[1], ARGV[2]), redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]),
                redis.call('GET', KEYS[4])}
if answer[4] then
    for person in string.gmatch(answer[4], '%d+') do
        answer[#answer + 1] = person
        answer[#answer + 1] = redis.call('GET', ARGV[1] .. person)
    end
end
return answer
"""


class ListLookup:
    """What one Redis call found for a page of a user's list of sessions: the page (bytes), when current.

    A page shows the reader's sessions (covered by the reader's list
    generation, which every write to any of them changes before it commits),
    the reader's own counters (the reader's generation) and the names of the
    people in them (theirs). A page is stored with those generations as
    they were before its database read, so it needs the people's
    generations before the read too: the reader's earlier reads record who
    appeared (``people``), and a page showing someone not yet recorded is
    not stored, only recorded for the next read.
    """

    def __init__(self, key: str = "", people_key: str = "", generations: dict | None = None, value=None,
                 missing=(), known=(), own=(), variant: str = ""):
        self.key = key
        self.variant = variant
        self.people_key = people_key
        self.own = own  # the reader's list and user generation keys: every page depends on both
        self.generations = generations  # key -> generation seen before the read; None: do not store
        self.value = value
        self.missing = missing
        self.known = set(known)  # the people whose generations were seen

    def store(self, body: bytes, *, people) -> None:
        if not self.key:
            return
        people = {str(pk) for pk in people}
        try:
            pipe = _client().pipeline(transaction=False)
            for key in self.missing:
                pipe.set(key, _new_generation(), ex=GENERATION_SECONDS, nx=True)
            if not people <= self.known:
                pipe.set(self.people_key, " ".join(sorted(self.known | people)), ex=GENERATION_SECONDS)
            elif self.generations is not None:
                shown = set(self.own) | {user_key(pk) for pk in people}
                tags = {key: value for key, value in self.generations.items() if key in shown}
                pipe.eval(_KEEP_PAGE, 1, self.key, self.variant, pickle.dumps((tags, body), pickle.HIGHEST_PROTOCOL),
                          PAGES_KEPT, COPY_SECONDS)
            pipe.execute()
        except Exception:
            logger.warning("could not store a list page under %s", self.key, exc_info=True)


PAGES_KEPT = 8  # per user: any query string is a page of its own, so their number must not be the caller's choice
_KEEP_PAGE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
    redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 0
"""


def lookup_list(user_id, variant: str) -> ListLookup:
    """A page of the user's list of sessions (``variant``: which page, how rendered), current or not."""
    if not enabled() or prefetch_failed():
        return ListLookup()
    copy_key, people_key = _key(f"copy:l:{user_id}"), _key(f"people:l:{user_id}")
    own = [sessions_of_key(user_id), user_key(user_id)]
    try:
        answer = redis_calls.script(_client(), _LIST_LOOKUP, [copy_key, *own, people_key], [user_key(""), variant])
    except Exception:
        logger.warning("Redis unavailable for the list lookup", exc_info=True)
        _failed_in_block()
        return ListLookup()
    copy = answer[0]
    generations = dict(zip(own, answer[1:3], strict=True))
    known = [pk.decode() for pk in answer[4::2]]
    generations.update({user_key(pk): value for pk, value in zip(known, answer[5::2], strict=True)})
    missing = [key for key, value in generations.items() if value is None]
    if not all(_usable(value) for value in generations.values()):
        return ListLookup(copy_key, people_key, None, missing=missing, known=known, own=own, variant=variant)
    value = None
    if copy is not None:
        tags, body = pickle.loads(copy)  # noqa: S301 (our own Redis, written by ListLookup.store)
        if all(generations.get(key) == generation for key, generation in tags.items()):
            value = body
    return ListLookup(copy_key, people_key, generations, value, missing=missing, known=known, own=own,
                      variant=variant)
