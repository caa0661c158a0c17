from sessions_app.models import ApproachChallenge

from .conftest import assert_problem


def test_it_lists_active_challenges(carol_api, easy_challenge, hard_challenge):
    ApproachChallenge.objects.create(title="Retired", difficulty="beginner", points=5, is_active=False)
    body = carol_api.get("/api/challenges/").json()
    assert [c["title"] for c in body["results"]] == [easy_challenge.title, hard_challenge.title]
    assert body["results"][0] == {
        "id": str(easy_challenge.pk), "title": easy_challenge.title, "description": easy_challenge.description,
        "difficulty": "beginner", "points": 10,
    }


def test_it_lists_within_4_queries(alice_api, easy_challenge, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert alice_api.get("/api/challenges/").status_code == 200


def test_it_requires_authentication(anon, db):
    assert_problem(anon.get("/api/challenges/"), 401)
