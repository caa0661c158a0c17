"""Every save of a session, a user or a profile stops their Redis copies before it commits
(sessions_app/freshness.py): the services' writes, and those outside them (the admin's user form,
set_password, seed_demo, a test's direct save).

QuerySet.update() bypasses these signals: the services that use it on
profiles mark the users themselves (_lock_profiles in services/_base.py and the unread
counter); nothing updates sessions or users that way. A session's save also
marks both participants' lists of sessions (freshness.sessions_of_key), a new
session's too.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete, pre_save

from . import freshness
from .models import UserProfile, WingmanSession


def _marks(sender, instance, *, adding: bool = False) -> dict:
    if sender is WingmanSession:
        # Both participants' lists of sessions change with any of their sessions, a new one included.
        marks = {"sessions_of": [instance.user1_id, instance.user2_id]}
        if not adding:  # a new session has no copy yet
            marks["sessions"] = [instance.pk]
        return marks
    return {"users": [instance.user_id if sender is UserProfile else instance.pk]}


def before_save(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login's timestamp: shown nowhere a copy serves, and signing in must not need Redis
    adding = instance._state.adding
    if not adding or sender is not get_user_model():  # a new user has no copy and is in no list yet
        instance._freshness_release = freshness.writing(**_marks(sender, instance, adding=adding))


def after_save(sender, instance, **kwargs):
    release = instance.__dict__.pop("_freshness_release", None)
    if release is not None:  # saved in autocommit mode: the write has committed now
        release()


def before_delete(sender, instance, **kwargs):
    freshness.writing(**_marks(sender, instance))


def connect() -> None:
    for model in (get_user_model(), UserProfile, WingmanSession):
        pre_save.connect(before_save, sender=model, dispatch_uid=f"freshness-pre-save-{model._meta.label}")
        post_save.connect(after_save, sender=model, dispatch_uid=f"freshness-post-save-{model._meta.label}")
        pre_delete.connect(before_delete, sender=model, dispatch_uid=f"freshness-pre-delete-{model._meta.label}")
