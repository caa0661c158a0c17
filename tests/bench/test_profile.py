"""The profile summary: each sample inside a request counted once, where its time goes."""

from bench import profile

REQUEST = "run (gunicorn/workers/gthread.py:1);handle_request (gunicorn/workers/gthread.py:771)"


def test_it_puts_each_request_sample_in_one_place(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join([
        # idle thread waiting for work: not inside a request, left out
        "_worker (concurrent/futures/thread.py:81) 500",
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
    assert samples == 100
    assert dict(shares) == {
        "SQL round trips (psycopg: send, wait, read)": 0.30,
        "gunicorn (reading, parsing, writing the socket)": 0.25,
        "connection health check (`SELECT 1` round trip)": 0.20,
        "Redis round trips": 0.15,
        "the per-request log line (logging, JSON, write to stderr)": 0.10,
    }
    assert top[0] == ("Connection.wait (psycopg/connection.py:495)", 0.5)
