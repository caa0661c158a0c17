"""The profile summary: each sample inside a request counted once, where its time goes."""

from bench import profile

REQUEST = "run (gunicorn/workers/gthread.py:1);handle_request (gunicorn/workers/gthread.py:771)"


def test_it_puts_each_sample_in_one_place(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join([
        # gthread's loop accepting a connection: not inside a request, a place of its own
        "run (gunicorn/workers/gthread.py:1);accept (gunicorn/workers/gthread.py:120) 100",
        f"{REQUEST};inner (django/core/handlers/exception.py:55);is_usable (django/db/backends/postgresql/base.py:491)"
        ";Cursor.execute (psycopg/cursor.py:97);Connection.wait (psycopg/connection.py:495) 20",
        f"{REQUEST};inner (django/core/handlers/exception.py:55);get (sessions_app/selectors.py:70)"
        ";Cursor.execute (psycopg/cursor.py:97);Connection.wait (psycopg/connection.py:495) 30",
        f"{REQUEST};__call__ (sessions_app/observability.py:60);info (logging/__init__.py:1489) 10",
        f"{REQUEST};inner (django/core/handlers/exception.py:55);get (django_redis/client/default.py:1)"
        ";_read_from_socket (redis/_parsers/socket.py:64) 15",
        f"{REQUEST};write (gunicorn/util.py:348) 25",
    ]) + "\n")
    samples, shares, top = profile.summarise(raw)
    assert samples == 200
    assert dict(shares) == {
        profile.OUTSIDE: 0.50,
        "SQL round trips (psycopg: send, wait, read)": 0.15,
        "gunicorn (reading, parsing, writing the socket)": 0.125,
        "connection health check (`SELECT 1` round trip)": 0.10,
        "Redis round trips": 0.075,
        "the per-request log line (logging, JSON, write to stderr)": 0.05,
    }
    assert top[0] == ("accept (gunicorn/workers/gthread.py:120)", 0.5)
    assert top[1] == ("Connection.wait (psycopg/connection.py:495)", 0.25)


def test_a_layer_takes_what_it_calls_and_our_code_comes_before_the_framework():
    view = f"{REQUEST};inner (django/core/handlers/exception.py:55);session_detail (sessions_app/views.py:90)"
    template = f"{view};render (django/template/base.py:170);render (sessions_app/templatetags/timing.py:12)"
    assert profile.place_of((template + ";reverse (django/urls/base.py:28)").split(";")) == \
        "Django templates (with the tags and filters they call)"
    assert profile.place_of((template + ";execute (django/db/models/sql/compiler.py:1)"
                             ";Cursor.execute (psycopg/cursor.py:97)").split(";")) == \
        "SQL round trips (psycopg: send, wait, read)"
    assert profile.place_of((view + ";now (django/utils/timezone.py:200)").split(";")) == \
        "app code (sessions_app, notifications)"
    assert profile.place_of(f"{REQUEST};inner (django/core/handlers/exception.py:55)".split(";")) == \
        "Django request handling, middleware, URL routing"
