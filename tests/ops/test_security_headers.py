"""Content-Security-Policy and Permissions-Policy: the exact directives on pages and API
answers, the two scoped exceptions, and templates that need no inline script or style.
(The browser tests prove the pages work under them: tests/browser/test_content_security_policy.py.)"""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import api_client, web_client

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

STRICT = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "manifest-src": ["'self'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), display-capture=(), encrypted-media=(), "
    "geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"
)


def parse_policy(header: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in header.split(";"))}


def policy(response) -> dict[str, list[str]]:
    return parse_policy(response["Content-Security-Policy"])


@pytest.fixture
def page_paths(session):
    return ["/", "/sessions/", "/sessions/new/", "/progress/", f"/sessions/{session.pk}/", "/no-such-page/"]


def test_it_sends_the_strict_policy_on_every_page(alice, page_paths):
    client = web_client(alice)
    for path in page_paths:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert policy(response) == STRICT, path
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY, path
    response = Client().get("/accounts/login/")
    assert policy(response) == STRICT
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_it_sends_the_strict_policy_on_htmx_fragments(alice, session):
    response = web_client(alice).get(f"/sessions/{session.pk}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert policy(response) == STRICT


def test_it_sends_the_strict_policy_on_the_admin(mod, session):
    assert policy(Client().get("/admin/login/")) == STRICT
    client = web_client(mod)
    for path in ("/admin/", "/admin/sessions_app/wingmansession/",
                 f"/admin/sessions_app/wingmansession/{session.pk}/change/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert policy(response) == STRICT, path


def test_it_sends_the_strict_policy_on_api_answers(alice, session):
    for response in (
        api_client(alice).get(f"/api/sessions/{session.pk}/"),
        api_client(alice).get("/api/me/"),
        Client().get("/api/me/"),  # a problem+json 401
        Client().get("/api/no-such-thing/"),
    ):
        assert response["Content-Type"].startswith(("application/json", "application/problem+json"))
        assert policy(response) == STRICT, response.request["PATH_INFO"]
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_it_allows_style_attributes_only_on_the_browsable_api(alice, session):
    client = web_client(alice)
    for path in ("/api/me/", f"/api/sessions/{session.pk}/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html"), path
        assert policy(response) == {**STRICT, "style-src-attr": ["'unsafe-inline'"]}, path
        assert "<style" not in response.content.decode()  # DRF's inline <style> is gone (templates/rest_framework)


def test_it_allows_data_images_only_on_swagger_ui():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    assert policy(response) == {**STRICT, "img-src": ["'self'", "data:"]}
    html = response.content.decode()
    assert re.search(r'<script src="/api/docs/\?script="></script>', html), "the start-up script comes from a URL"
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert "/api/schema/" in script.content.decode()


COMMENTS = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)


def test_it_keeps_inline_script_and_style_out_of_the_templates():
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"  # a script without src
        r"|<style\b"  # a style element
        r"|\sstyle=[\"']"  # a style attribute
        r"|\son[a-z]+=[\"']"  # an event handler attribute
        r"|javascript:",
        re.IGNORECASE,
    )
    found = [f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
             for path in sorted(TEMPLATES.rglob("*.html"))
             for match in inline.finditer(COMMENTS.sub("", path.read_text()))]
    assert not found, found
    assert list(TEMPLATES.rglob("*.html")), "no templates found"
