"""The OpenAPI 3.1 schema and its docs page (served locally, no CDN)."""

import re

import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

SPEC_PATHS = {
    ("/api/sessions/", "get"), ("/api/sessions/", "post"), ("/api/sessions/current/", "get"),
    ("/api/sessions/{id}/", "get"), ("/api/sessions/{id}/check-in/", "post"), ("/api/sessions/{id}/start/", "post"),
    ("/api/sessions/{id}/pause/", "post"), ("/api/sessions/{id}/resume/", "post"),
    ("/api/sessions/{id}/confirm/", "post"), ("/api/sessions/{id}/no-show/", "post"),
    ("/api/sessions/{id}/cancel/", "post"), ("/api/sessions/{id}/notes/", "patch"),
    ("/api/sessions/{id}/events/", "get"), ("/api/sessions/{id}/calendar.ics", "get"),
    ("/api/matches/", "get"), ("/api/matches/{id}/", "get"), ("/api/challenges/", "get"), ("/api/me/", "get"),
    ("/api/me/stats/", "get"), ("/api/auth/token/", "post"), ("/api/auth/token/refresh/", "post"),
    ("/api/session/create", "post"), ("/api/session/{session_id}", "get"),
    ("/api/session/{session_id}/confirm", "post"), ("/api/session/{session_id}/notes", "patch"),
    ("/api/session/confirm-completion", "post"),
}


def load_schema(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_it_serves_openapi_3_1_with_every_endpoint(client, db):
    schema = load_schema(client)
    assert schema["openapi"] == "3.1.0"
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert SPEC_PATHS <= operations


def test_it_documents_problem_answers_everywhere(client, db):
    schema = load_schema(client)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            problems = [code for code, answer in responses.items() if code[0] in "45"]
            for code in problems:
                assert list(responses[code]["content"]) == ["application/problem+json"], (method, path, code)
    detail = schema["paths"]["/api/sessions/{id}/"]["get"]["responses"]
    assert {"200", "304", "403", "404", "422"} <= set(detail)
    notes = schema["paths"]["/api/sessions/{id}/notes/"]["patch"]
    assert {"412", "429", "422"} <= set(notes["responses"])
    assert {"If-Match", "Idempotency-Key"} <= {p["name"] for p in notes["parameters"]}
    assert "text/calendar" in schema["paths"]["/api/sessions/{id}/calendar.ics"]["get"]["responses"]["200"]["content"]


def test_it_describes_the_full_session_and_the_original_confirm_answer(client, db):
    components = load_schema(client)["components"]["schemas"]
    session = components["Session"]["properties"]
    for field in ("id", "match_id", "venue_name", "scheduled_time", "status", "user1_challenge_id",
                  "user2_challenge_id", "user1_completed_confirmed_by_user2", "user2_completed_confirmed_by_user1",
                  "completed_at", "notes", "created_at", "participants", "reputation_preview", "version",
                  "allowed_actions", "timing"):
        assert field in session, field
    assert set(components["ConfirmCompletionResult"]["properties"]) == {
        "success", "message", "session_status", "both_confirmed", "reputation_updated", "user_reputation_delta",
    }
    assert {"type", "title", "status", "detail", "instance", "code", "errors"} <= set(
        components["Problem"]["properties"])


def test_it_serves_the_docs_without_any_outside_network(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    external = re.findall(r"""(?:src|href)=["'](https?:)?//""", html)
    assert not external, external
    for asset in re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html):
        assert finders.find(asset.removeprefix("/static/")), asset


def test_it_generates_the_schema_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert yaml.safe_load((tmp_path / "schema.yaml").read_text())["openapi"] == "3.1.0"


# --- one schema, whichever worker serves it (issue 8, defect 13) ---------------------------

SCHEMA_TWICE = """
import sys
import django
from django.test.utils import setup_test_environment

django.setup()
setup_test_environment()
from django.test import Client

client = Client()
first = client.get("/api/schema/").content
# a request to a routed action builds its view, which used to rewrite the shared schema class
client.patch("/api/sessions/00000000-0000-0000-0000-000000000000/notes/", "{}", content_type="application/json")
second = client.get("/api/schema/").content
sys.stdout.buffer.write(first + b"\\n=====\\n" + second)
"""


def schema_in_a_fresh_process() -> tuple[bytes, bytes]:
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": "", "REDIS_URL": "",
               "SQLITE_PATH": str(Path(scratch) / "unused.sqlite3"), "LOG_LEVEL": "ERROR"}
        out = subprocess.run([sys.executable, "-c", SCHEMA_TWICE], cwd=root, env=env, capture_output=True,
                             check=True, timeout=120).stdout
    first, second = out.split(b"\n=====\n")
    return first, second


def test_it_serves_the_same_schema_bytes_every_time(client, alice_api, session):
    first = client.get("/api/schema/").content
    alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "builds the routed view"})
    alice_api.post(f"/api/sessions/{session.pk}/check-in/")
    assert client.get("/api/schema/").content == first


def test_two_fresh_processes_serve_the_same_schema_bytes(client, db):
    one_first, one_second = schema_in_a_fresh_process()
    two_first, two_second = schema_in_a_fresh_process()
    assert one_first == one_second == two_first == two_second
    assert one_first == client.get("/api/schema/").content
    notes = yaml.safe_load(one_first)["paths"]["/api/session/{session_id}/notes"]["patch"]
    assert notes["description"].startswith("The original /api/session/... paths")


def test_it_declares_the_conditional_headers_and_the_412_body(client, db):
    schema = load_schema(client)
    paths = schema["paths"]
    for path in ("/api/sessions/{id}/", "/api/session/{session_id}", "/api/sessions/current/"):
        operation = paths[path]["get"]
        assert "If-None-Match" in {p["name"] for p in operation["parameters"]}, path
        assert "ETag" in operation["responses"]["200"]["headers"], path
        assert "ETag" in operation["responses"]["304"]["headers"], path
    for path in ("/api/sessions/{id}/notes/", "/api/session/{session_id}/notes"):
        operation = paths[path]["patch"]
        assert "If-Match" in {p["name"] for p in operation["parameters"]}, path
        assert "ETag" in operation["responses"]["200"]["headers"], path
        body = operation["responses"]["412"]["content"]["application/problem+json"]["schema"]["$ref"]
        properties = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
        assert {"current_version", "current_notes", "code"} <= set(properties)
    assert "ETag" in paths["/api/sessions/"]["post"]["responses"]["201"]["headers"]
    assert "ETag" in paths["/api/sessions/{id}/check-in/"]["post"]["responses"]["200"]["headers"]
