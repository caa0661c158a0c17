"""The settings page: a download button for the viewer's data (a plain link, no JavaScript)."""

import json


def test_it_offers_the_download_and_serves_the_file(alice_client, session):
    page = alice_client.get("/settings/").content.decode()
    assert 'href="/settings/my-data.json"' in page
    response = alice_client.get("/settings/my-data.json")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["username"] == "alice" and [s["id"] for s in data["sessions"]] == [str(session.pk)]


def test_it_needs_a_login(client):
    assert client.get("/settings/my-data.json").status_code == 302
