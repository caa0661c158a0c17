from .conftest import assert_problem


def test_it_lists_the_callers_matches(alice_api, match, carol_match):
    body = alice_api.get("/api/matches/").json()
    assert body["count"] == 1
    assert body["results"][0] == {
        "id": str(match.pk), "user1_id": match.user1_id, "user2_id": match.user2_id, "status": "accepted",
        "created_at": body["results"][0]["created_at"],
    }


def test_it_shows_an_outsider_only_their_own(carol_api, match, carol_match):
    assert [m["id"] for m in carol_api.get("/api/matches/").json()["results"]] == [str(carol_match.pk)]


def test_it_returns_one_match(bob_api, match):
    assert bob_api.get(f"/api/matches/{match.pk}/").json()["id"] == str(match.pk)


def test_it_refuses_someone_elses_match(carol_api, match):
    assert_problem(carol_api.get(f"/api/matches/{match.pk}/"), 403, "not_participant")


def test_it_answers_404_and_422(alice_api, db):
    assert_problem(alice_api.get("/api/matches/2b3c1f9e-0000-4000-8000-000000000000/"), 404)
    assert_problem(alice_api.get("/api/matches/12/"), 422, "invalid_id")


def test_it_lists_within_4_queries(alice_api, match, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert alice_api.get("/api/matches/").status_code == 200


def test_it_requires_authentication(anon, db):
    assert_problem(anon.get("/api/matches/"), 401)
