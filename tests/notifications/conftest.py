"""A real SMTP server (aiosmtpd) on a free port, started and stopped by the tests, and helpers to
schedule sessions through the real service."""

import asyncio
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from sessions_app import services


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hold:
    """The server stops answering at one stage of the conversation until released: at "EHLO" before
    any mail was given, at "DATA" after taking the message and before saying so."""

    def __init__(self, stage: str):
        self.stage = stage
        self.reached = threading.Event()
        self.released = threading.Event()

    async def wait(self):
        self.reached.set()
        while not self.released.is_set():  # the server's loop goes on serving other clients meanwhile
            await asyncio.sleep(0.02)


class Inbox:
    """What the SMTP server accepted: one parsed message per DATA, with its envelope recipients."""

    def __init__(self):
        self.messages = []
        self.received_at = []  # time.time() of each message, in the same order
        self.lock = threading.Lock()
        self.hold = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 (aiosmtpd's hook)
        session.host_name = hostname  # what aiosmtpd does without this hook
        if self.hold and self.hold.stage == "EHLO":
            await self.hold.wait()
        return responses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.lock:
            message = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append((list(envelope.rcpt_tos), message))
            self.received_at.append(time.time())
        if self.hold and self.hold.stage == "DATA":
            await self.hold.wait()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [message for rcpt, message in self.messages if address in rcpt]


class SmtpServer:
    """An aiosmtpd server on a fixed port that can be taken down and brought back."""

    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = None

    def up(self):
        if self.controller is None:
            self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def hold(self, stage: str) -> Hold:
        """From now on, conversations stall at ``stage`` ("EHLO" or "DATA") until the hold is released."""
        self.inbox.hold = Hold(stage)
        return self.inbox.hold

    def down(self):
        if self.inbox.hold is not None:
            self.inbox.hold.released.set()
            self.inbox.hold = None
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(settings):
    """Django sends through a real SMTP server at 127.0.0.1:<free port>, up at the start."""
    server = SmtpServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.NOTIFICATIONS_RETRY_BACKOFF = [1, 2]
    settings.SITE_URL = "https://wingman.example"
    server.up()
    yield server
    server.down()


@pytest.fixture
def schedule(alice, match, easy_challenge, hard_challenge):
    """alice schedules a session with bob through the service, ``starts_in`` from now."""

    def make(starts_in=timedelta(days=2), user=None):
        return services.session_schedule(
            user=user or alice, match_id=match.pk, venue_name="Corner Coffee House",
            scheduled_time=timezone.now() + starts_in,
            user1_challenge_id=easy_challenge.pk, user2_challenge_id=hard_challenge.pk,
        )

    return make
