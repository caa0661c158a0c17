"""X-Forwarded-* headers count only from the proxy FORWARDED_ALLOW_IPS names.

Under a real gunicorn (gunicorn.conf.py, DEBUG off, SSL redirect on) and
in-process: a client that claims ``X-Forwarded-Proto: https`` itself is still
sent to https, and a named proxy's header is believed.
"""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

from sessions_app.proxies import client_ip

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, headers: dict) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.fixture
def gunicorn_server(tmp_path):
    """Start gunicorn with the given environment; yields a function returning its port."""
    started: list[subprocess.Popen] = []

    def start(**env: str) -> int:
        port = _free_port()
        keep = {k: v for k, v in os.environ.items()
                if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "FORWARDED_ALLOW_IPS") and not k.startswith("SECURE_")}
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "wingman.wsgi"],
            cwd=ROOT,
            env={**keep, "DJANGO_SETTINGS_MODULE": "wingman.settings", "DEBUG": "0", "SECRET_KEY": "x" * 60,
                 "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "1", "STATIC_MANIFEST": "0",
                 "PORT": str(port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2", **env},
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"gunicorn-{port}.log", "w"),
        )
        started.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {(tmp_path / f'gunicorn-{port}.log').read_text()[-2000:]}")
            try:
                _get(port, "/healthz", {})
                return port
            except OSError:
                time.sleep(0.2)
        pytest.fail("gunicorn did not start within 30 s")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.reliability("attack", "X-Forwarded-Proto from an untrusted client")
@pytest.mark.parametrize("env", [
    {},  # no proxy named: the default
    {"FORWARDED_ALLOW_IPS": ""},
    # A proxy is named (and the old switch is on), but this client talks to gunicorn directly.
    {"FORWARDED_ALLOW_IPS": "10.9.9.9", "SECURE_PROXY_SSL_HEADER": "1"},
], ids=["default", "empty", "other-proxy"])
def test_it_redirects_a_client_claiming_https_itself_under_gunicorn(gunicorn_server, env):
    port = gunicorn_server(**env)
    response = _get(port, "/accounts/login/", {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"})
    assert response.status == 301
    assert response.getheader("Location") == "https://127.0.0.1/accounts/login/"


def test_it_believes_the_named_proxy_under_gunicorn(gunicorn_server):
    port = gunicorn_server(FORWARDED_ALLOW_IPS="127.0.0.1")
    assert _get(port, "/accounts/login/", {"X-Forwarded-Proto": "https"}).status == 200
    # The proxy saying plain http still gets the redirect.
    assert _get(port, "/accounts/login/", {"X-Forwarded-Proto": "http"}).status == 301


def test_it_drops_forwarded_headers_from_anyone_but_the_proxy(settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()
    direct = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="203.0.113.9")
    assert direct.status_code == 301
    proxied = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.0.0.1")
    assert proxied.status_code == 200


class _Request:
    def __init__(self, remote: str, forwarded: str | None = None):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


@pytest.mark.parametrize(("allow", "remote", "forwarded", "expected"), [
    ([], "198.51.100.7", "1.2.3.4", "198.51.100.7"),                       # nobody named: the peer
    (["10.0.0.1"], "198.51.100.7", "1.2.3.4", "198.51.100.7"),             # peer is not the proxy
    (["10.0.0.1"], "10.0.0.1", "1.2.3.4", "1.2.3.4"),                      # the proxy forwards the client
    (["10.0.0.1"], "10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),             # a forged hop before the real one
    (["10.0.0.0/8"], "10.0.0.1", "1.2.3.4, 10.0.0.2", "1.2.3.4"),          # two proxies of our own
    (["10.0.0.1"], "10.0.0.1", "not-an-ip", "10.0.0.1"),                   # garbage: the proxy itself
    (["10.0.0.1"], "10.0.0.1", None, "10.0.0.1"),
])
def test_it_finds_the_client_address(settings, allow, remote, forwarded, expected):
    settings.FORWARDED_ALLOW_IPS = allow
    assert client_ip(_Request(remote, forwarded)) == expected
