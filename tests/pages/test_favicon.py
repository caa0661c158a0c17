"""The site's icon: every page names it, and /favicon.ico answers for the pages that name none."""

from django.test import Client

ICO_HEADER = b"\x00\x00\x01\x00"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_it_serves_the_icon_at_the_root(db):
    response = Client().get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [("/static/img/favicon.ico", 302)]
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert body(response).startswith(ICO_HEADER)


def test_every_page_names_an_icon_that_is_there(alice_web):
    for client, path in ((alice_web, "/"), (alice_web, "/no-such-page/"), (Client(), "/accounts/login/")):
        page = client.get(path).content.decode()
        assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page, path
        assert '<link rel="icon" href="/static/img/favicon.ico" sizes="48x48">' in page, path
    svg = Client().get("/static/img/favicon.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert body(svg).startswith(b"<svg")
