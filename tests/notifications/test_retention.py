"""The daily purge (purge_notifications, the Celery task): notifications due more than NOTIFICATIONS_KEEP_DAYS
ago go once they are done with (no delivery pending or under way; read, or never shown in the inbox). Unread
ones stay, and with them the unread count."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from notifications.models import Kind, Notification, Status
from notifications.selectors import unread_count
from notifications.services import notifications_purge_old
from sessions_app.models import UserProfile
from tests.conftest import at_once, command_output, on_postgres, require_or_skip
from wingman.celery import app


def notification(user, name: str, *, days_ago: float, status=Status.SENT, shown=True, read=True) -> Notification:
    due = timezone.now() - timedelta(days=days_ago)
    return Notification.objects.create(
        recipient=user, kind=Kind.SESSION_SCHEDULED, payload={"name": name}, due_at=due,
        expires_at=due + timedelta(days=7), next_attempt_at=due, status=status, shown_at=due if shown else None,
        read_at=due + timedelta(hours=1) if shown and read else None,
    )


def left() -> set[str]:
    return set(Notification.objects.values_list("payload__name", flat=True))


def purge() -> str:
    return command_output("purge_notifications").strip()


def test_it_deletes_old_ones_done_with_and_keeps_the_rest(alice, bob):
    notification(alice, "old read", days_ago=91)
    notification(alice, "old e-mail only", days_ago=200, shown=False)
    notification(bob, "old failed", days_ago=95, status=Status.FAILED, shown=False)
    notification(bob, "old superseded reminder", days_ago=120, status=Status.SUPERSEDED, shown=False)
    notification(alice, "old unread", days_ago=150, read=False)
    notification(alice, "old pending", days_ago=100, status=Status.PENDING, shown=False)
    notification(bob, "old sending", days_ago=100, status=Status.SENDING, shown=False)
    notification(alice, "recent read", days_ago=89)
    assert purge() == "Deleted 4 notification(s) due more than 90 days ago."
    assert left() == {"old unread", "old pending", "old sending", "recent read"}


def test_the_unread_count_is_untouched(alice):
    notification(alice, "old unread", days_ago=150, read=False)
    notification(alice, "old read", days_ago=150)
    UserProfile.objects.filter(pk=alice.pk).update(notifications_unread=1)
    purge()
    assert left() == {"old unread"}
    assert unread_count(user=UserProfile.objects.get(pk=alice.pk).user) == 1


def test_running_it_again_deletes_nothing(alice, unchanged):
    notification(alice, "old read", days_ago=91)
    notification(alice, "recent", days_ago=1)
    purge()
    with unchanged():
        assert purge() == "Deleted 0 notification(s) due more than 90 days ago."


def test_it_works_through_more_than_one_batch_and_reads_the_setting(alice, settings):
    settings.NOTIFICATIONS_KEEP_DAYS = 30
    for number in range(5):
        notification(alice, f"old {number}", days_ago=31 + number)
    notification(alice, "kept", days_ago=29)
    assert notifications_purge_old(batch=2) == 5
    assert left() == {"kept"}


def test_the_celery_task_purges_and_beat_runs_it_daily(alice):
    notification(alice, "old read", days_ago=91)
    app.loader.import_default_modules()  # the task modules a worker finds (autodiscover_tasks), as it does
    registered = app.tasks["notifications.purge_old"]
    (entry,) = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "notifications.purge_old"]
    assert entry["schedule"] == timedelta(days=1)
    assert registered() == "1"
    assert left() == set()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_purges_at_once_share_the_work(alice, bob):
    require_or_skip(on_postgres(), "concurrent purges need PostgreSQL", "WINGMAN_REQUIRE_POSTGRES")
    for number in range(30):
        notification(alice if number % 2 else bob, f"old {number}", days_ago=91 + number)
    notification(alice, "kept", days_ago=2)
    counts = at_once(lambda: notifications_purge_old(batch=4), 2)
    assert sum(counts) == 30
    assert left() == {"kept"}
