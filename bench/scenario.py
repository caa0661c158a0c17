"""What the bench sends: the request kinds of the table, with credentials minted directly.

Load users get JWTs signed with the servers' SECRET_KEY and a cookie session
written through Django's session store, so no password is hashed or checked
during the load. Needs Django set up on the bench database (bench/run.py).
"""

import hashlib
import json
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta

from bench import database
from bench.load import Kind

TOKEN_LIFETIME = timedelta(hours=3)  # outlives any bench run
COUNTING_LINES = 4  # lines of each rotating list spent by the counting pass


def seeded_uuid(seed: str) -> uuid.UUID:
    """The id PostgreSQL's md5(seed)::uuid gives (database.py names its rows that way)."""
    return uuid.UUID(hashlib.md5(seed.encode()).hexdigest())


def access_token(user_id: int) -> str:
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    # for_user puts in every claim authentication checks (the password-change revocation claim too).
    token = AccessToken.for_user(get_user_model().objects.get(pk=user_id))
    token.set_exp(lifetime=TOKEN_LIFETIME)
    return str(token)


def session_cookie(user_id: int) -> str:
    """A logged-in session of `user_id` as the login view would leave it: `<cookie name>=<key>`."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

    user = get_user_model().objects.get(pk=user_id)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    # The backend a password login records (the login-limit backend in front of it only refuses).
    store[BACKEND_SESSION_KEY] = next(path for path in settings.AUTHENTICATION_BACKENDS if not path.startswith("axes."))
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


@dataclass
class Plan:
    floor: Kind
    kinds: list[Kind]
    heavy_sessions: int
    light_sessions: int

    def kind(self, key: str) -> Kind:
        return next(k for k in self.kinds if k.key == key)

    def fill_etags(self, base_url: str) -> None:
        """Ask the server for the ETag of each kind that must answer 304, and send it in If-None-Match."""
        for kind in self.kinds:
            if kind.expect != 304:
                continue
            path, headers, _ = kind.request(0)
            headers.pop("If-None-Match", None)
            with urllib.request.urlopen(urllib.request.Request(base_url + path, headers=headers), timeout=10) as answer:
                etag = answer.headers["ETag"]
            if not etag:
                raise RuntimeError(f"{kind.label}: the 200 carried no ETag")
            kind.headers["If-None-Match"] = etag

    def skip_counted(self) -> None:
        """The counting pass used the first lines of the rotating lists (their sessions are confirmed now)."""
        for kind in self.kinds:
            if kind.rotate:
                kind.rotate = kind.rotate[COUNTING_LINES:]


def prepare(confirms: int) -> Plan:
    from django.db import connection

    live = seeded_uuid(database.LIVE_SESSION)
    heavy, light = access_token(database.HEAVY_USER), access_token(database.LIGHT_USER)
    cookie = session_cookie(database.HEAVY_USER)
    jwt = {"Authorization": f"Bearer {heavy}"}
    json_body = {"Content-Type": "application/json"}
    session_api = f"/api/session/{live}"
    page = f"/sessions/{live}/"
    poll = {"Cookie": cookie, "HX-Request": "true"}

    notes_tokens = {}
    notes_lines = []
    for k in range(database.NOTES_POOL):
        user = 2 * (3 + k) - 1
        notes_tokens[user] = notes_tokens.get(user) or access_token(user)
        notes_lines.append((f"/api/session/{seeded_uuid(f'notes{k}')}/notes", notes_tokens[user],
                            json.dumps({"notes": "Bench edit {n}: met at the bar, both tried their challenge."})))
    confirm_tokens = {}
    confirm_lines = []
    for k in range(confirms):
        user = 2 * (database.CONFIRM_FIRST_MATCH + k % database.CONFIRM_MATCHES) - 1
        confirm_tokens[user] = confirm_tokens.get(user) or access_token(user)
        confirm_lines.append((f"/api/session/{seeded_uuid(f'confirm{k}')}/confirm", confirm_tokens[user], "{}"))

    kinds = [
        Kind("healthz", "`GET /healthz`", path="/healthz"),
        Kind("get_jwt", "GET session, JWT → 200", path=session_api, headers=dict(jwt)),
        Kind("get_jwt_304", "GET session, JWT → 304", path=session_api, headers=dict(jwt), expect=304),
        Kind("get_cookie", "GET session, cookie → 200", path=session_api, headers={"Cookie": cookie}),
        Kind("get_cookie_304", "GET session, cookie → 304", path=session_api, headers={"Cookie": cookie},
             expect=304),
        Kind("page", "session page `/sessions/{id}/` → 200", path=page, headers={"Cookie": cookie}),
        Kind("poll_304", "session page HTMX poll → 304", path=page, headers=dict(poll), expect=304),
        Kind("list", "`/api/sessions/?limit=20`, 5,000-session user", path="/api/sessions/?limit=20",
             headers=dict(jwt)),
        Kind("list_offset", "`…?limit=20&offset=4000`, 5,000-session user",
             path="/api/sessions/?limit=20&offset=4000", headers=dict(jwt)),
        Kind("list_light", "`/api/sessions/?limit=20`, 10-session user", path="/api/sessions/?limit=20",
             headers={"Authorization": f"Bearer {light}"}),
        Kind("stats", "`/api/me/stats/`, 5,000-session user", path="/api/me/stats/", headers=dict(jwt)),
        Kind("stats_light", "`/api/me/stats/`, 10-session user", path="/api/me/stats/",
             headers={"Authorization": f"Bearer {light}"}),
        Kind("notes", "PATCH notes (1,000 sessions in turn)", method="PATCH", headers=dict(json_body),
             rotate=notes_lines),
        Kind("confirm", "POST confirm (a fresh session each)", method="POST", headers=dict(json_body),
             rotate=confirm_lines, consume=True),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE %s IN (user1_id, user2_id)),"
            " count(*) FILTER (WHERE %s IN (user1_id, user2_id))"
            " FROM wingman_sessions WHERE user1_id IN (%s, %s) OR user2_id IN (%s, %s)",
            [database.HEAVY_USER, database.LIGHT_USER] * 3,
        )
        heavy_count, light_count = cursor.fetchone()
    return Plan(
        floor=Kind("floor", "**floor**: bare Django view, one SQL query", path=f"/floor/session/{live}", floor=True),
        kinds=kinds, heavy_sessions=heavy_count, light_sessions=light_count,
    )
