import json

from django.test import RequestFactory

from sessions_app import errorpages


def test_it_shows_a_friendly_404(client, db, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


def test_it_answers_problem_json_for_an_unknown_api_path(client, db, settings):
    settings.DEBUG = False
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    body = json.loads(response.content)
    assert body["status"] == 404 and body["code"] == "not_found"


def test_it_renders_the_500_page_without_a_context():
    response = errorpages.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_it_answers_problem_json_for_api_500_403_400():
    factory = RequestFactory()
    for status, call in ((500, lambda r: errorpages.server_error(r)),
                         (403, lambda r: errorpages.permission_denied(r, None)),
                         (400, lambda r: errorpages.bad_request(r, None))):
        response = call(factory.get("/api/sessions/"))
        assert response.status_code == status
        assert json.loads(response.content)["status"] == status


def test_it_renders_a_friendly_400_and_403(rf, db):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/sessions/")
    request.user = AnonymousUser()
    assert "didn't make sense" in errorpages.bad_request(request, None).content.decode()
    response = errorpages.permission_denied(request, None)
    assert response.status_code == 403 and "You can't open this" in response.content.decode()
