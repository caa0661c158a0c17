"""The Moderators group (data migrations 0002 and 0008, and notifications 0002): what moderation needs and no more."""

from django.contrib.auth.models import Group

from tests.conftest import web_client

from .conftest import change_url

EXPECTED = {
    "sessions_app.view_wingmansession", "sessions_app.change_wingmansession", "sessions_app.moderate_wingmansession",
    "sessions_app.view_wingmanmatch", "sessions_app.change_wingmanmatch",
    "sessions_app.view_approachchallenge", "sessions_app.change_approachchallenge",
    "sessions_app.view_userprofile", "sessions_app.change_userprofile",
    "sessions_app.view_sessionevent", "sessions_app.view_reputationledger",
    "sessions_app.view_report", "sessions_app.view_block",  # 0008: the trust queues
    "sessions_app.view_dispute", "sessions_app.change_dispute",
    "auth.view_user",
    # notifications migration 0002: the outbox (failed and unknown deliveries) and preferences, read only
    "notifications.view_notification", "notifications.view_preference",
}


def test_it_holds_exactly_the_moderation_permissions(db):
    group = Group.objects.get(name="Moderators")
    held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert held == EXPECTED
    assert not [p for p in held if ".delete_" in p or ".add_" in p]


def test_it_gives_a_member_the_permission_the_services_check(mod, staff):
    assert mod.has_perm("sessions_app.moderate_wingmansession")
    assert not staff.has_perm("sessions_app.moderate_wingmansession")


def test_it_lets_moderators_find_users_but_not_change_or_delete_them(mod, alice, unchanged):
    client = web_client(mod)
    found = client.get("/admin/auth/user/", {"q": "alice@example"})
    assert found.status_code == 200
    assert [u.username for u in found.context["cl"].result_list] == ["alice"]
    with unchanged():
        assert client.post(change_url(alice), {"username": "mallory", "is_staff": "on"}).status_code == 403
        assert client.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"}).status_code == 403
    alice.refresh_from_db()
    assert (alice.username, alice.is_staff) == ("alice", False)
