"""A real `celery -A wingman worker --beat` on the test Redis delivers a due notification within 30 s."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from notifications.models import Kind, Notification, Status
from tests.conftest import on_postgres, require_or_skip

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_with_beat_delivers_a_due_notification_within_30_seconds(smtp, schedule, tmp_path, bob):
    require_or_skip(on_postgres() and bool(settings.REDIS_URL),
                    "the Celery worker test needs PostgreSQL and Redis (REDIS_URL)", "WINGMAN_REQUIRE_POSTGRES")
    schedule()
    queue = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "wingman.settings", "DEBUG": "1",
        "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "CELERY_QUEUE": queue,
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "beat-schedule"),
        "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port), "NOTIFICATIONS_SWEEP_SECONDS": "2",
        "SITE_URL": "https://wingman.example",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 (closed below)
    started = time.monotonic()
    worker = subprocess.Popen(  # noqa: S603 (this project's own worker)
        [sys.executable, "-m", "celery", "-A", "wingman", "worker", "--beat", "--loglevel", "INFO",
         "--concurrency", "1", "--pool", "solo", "--without-gossip", "--without-mingle"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        while time.monotonic() - started < 30 and not smtp.inbox.to("bob@example.com"):
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.25)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()
        _forget_queue(queue)
    mails = smtp.inbox.to("bob@example.com")
    assert [m["Subject"] for m in mails] == ["Alice scheduled a session with you"], \
        (tmp_path / "worker.log").read_text()[-3000:]
    assert Notification.objects.get(kind=Kind.SESSION_SCHEDULED).status == Status.SENT
    print(f"worker start to delivery: {elapsed:.1f} s")


def _forget_queue(queue: str) -> None:
    """Delete only this test's queue keys from the shared Redis database."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = [queue, f"_kombu.binding.{queue}"]
    client.delete(*keys)
    client.close()
