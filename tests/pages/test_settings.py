"""The settings page: a download button for the viewer's data (a plain link, no JavaScript)."""

import json


def test_it_offers_the_download_and_serves_the_file(alice_web, session):
    page = alice_web.get("/settings/").content.decode()
    assert 'href="/settings/my-data.json"' in page
    response = alice_web.get("/settings/my-data.json")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["username"] == "alice" and [s["id"] for s in data["sessions"]] == [str(session.pk)]


def test_it_needs_a_login(client):
    assert client.get("/settings/my-data.json").status_code == 302


def test_it_closes_the_account_with_the_password(alice_web, alice, session):
    from django.contrib.auth.models import User

    from sessions_app.models import WingmanSession
    from tests.conftest import PASSWORD

    wrong = alice_web.post("/settings/close-account/", {"password": "nope"}, follow=True)
    assert "The password is not right" in wrong.content.decode() and User.objects.get(pk=alice.pk).is_active
    response = alice_web.post("/settings/close-account/", {"password": PASSWORD}, follow=True)
    assert "Your account is closed." in response.content.decode()
    assert not User.objects.get(pk=alice.pk).is_active
    assert WingmanSession.objects.get().cancellation_reason == "erased"
