"""Every error, DRF's own included, is RFC 9457 problem+json; client input never causes a 500."""

import json

from django.test import override_settings

from sessions_app.models import WingmanSession

from .conftest import assert_problem


def test_it_answers_unknown_api_urls_with_a_problem(alice_api, anon, db):
    assert_problem(alice_api.get("/api/nothing-here/"), 404, "not_found")
    assert_problem(anon.post("/api/sessions"), 404, "not_found")  # no slash: no redirect that drops the body


def test_it_answers_a_wrong_method_with_405_and_allow(alice_api, session, unchanged):
    with unchanged():
        response = alice_api.delete(f"/api/sessions/{session.pk}/")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_it_answers_a_wrong_content_type_with_415(alice_api, due_session, unchanged):
    with unchanged():
        response = alice_api.post(f"/api/sessions/{due_session.pk}/cancel/", "reason=x",
                                 content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415, "unsupported_media_type")


def test_it_answers_unparsable_json_with_422(alice_api, due_session, unchanged):
    with unchanged():
        response = alice_api.post(f"/api/sessions/{due_session.pk}/cancel/", '{"reason": ',
                                 content_type="application/json")
    assert_problem(response, 422, "parse_error")


def test_it_answers_an_unacceptable_accept_header_with_406(alice_api, session):
    assert_problem(alice_api.get(f"/api/sessions/{session.pk}/", HTTP_ACCEPT="image/png"), 406, "not_acceptable")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_it_answers_an_oversized_body_with_413(alice_api, session, unchanged):
    with unchanged():
        response = alice_api.patch(f"/api/sessions/{session.pk}/notes/", json.dumps({"notes": "x" * 2000}),
                                  content_type="application/json")
    assert_problem(response, 413, "payload_too_large")


def test_it_refuses_hostile_strings_without_a_500(alice_api, session, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{session.pk}/cancel/", {"reason": "\x00"}), 422)
        assert_problem(alice_api.get("/api/sessions/?status=%00"), 422)
        assert_problem(alice_api.get("/api/sessions/?offset=99999999999999999999"), 422)
        assert_problem(alice_api.get("/api/sessions/?limit=%C2%B2"), 422)


def test_it_refuses_dates_out_of_range_without_a_500(alice_api, session):
    problem = assert_problem(alice_api.get("/api/sessions/?date_from=0001-01-01&date_to=9999-12-31"), 422,
                             "invalid_input")
    assert set(problem["errors"]) == {"date_from", "date_to"}


def test_it_describes_the_problem_fully(carol_api, session):
    body = assert_problem(carol_api.get(f"/api/sessions/{session.pk}/"), 403, "not_participant")
    assert body["type"].endswith("not_participant")
    assert body["instance"] == f"/api/sessions/{session.pk}/"
    assert body["title"] == "Forbidden"
    assert WingmanSession.objects.count() == 1


def test_it_refuses_absurdly_nested_json_without_a_500(alice_api, session, unchanged):
    with unchanged():
        response = alice_api.patch(f"/api/sessions/{session.pk}/notes/", "[" * 100_000 + "]" * 100_000,
                                  content_type="application/json")
    assert_problem(response, 422, "parse_error")


def test_it_refuses_json_that_is_not_utf8(alice_api, session, unchanged):
    with unchanged():
        response = alice_api.patch(f"/api/sessions/{session.pk}/notes/", b'{"notes": "\xff\xfe"}',
                                  content_type="application/json")
    assert_problem(response, 422, "parse_error")
