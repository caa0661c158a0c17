import re
from datetime import timedelta

from sessions_app import services


def test_it_draws_sessions_and_reputation(alice_web, alice, bob, make_session, django_assert_max_num_queries):
    done = make_session(starts_in=-timedelta(hours=1))
    services.session_confirm(session_id=done.pk, user=alice)
    services.session_confirm(session_id=done.pk, user=bob)
    make_session(starts_in=timedelta(hours=3))
    with django_assert_max_num_queries(5):
        response = alice_web.get("/progress/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'class="rep-line"' in html
    rows = re.findall(r"<tr><td>[\d-]+</td><td>(\d+)</td><td>(\d+)</td><td>(-?\d+)</td></tr>", html)
    assert len(rows) == 12
    assert rows[-1][2] == "10"  # reputation at the end of this week
    assert sum(int(r[0]) for r in rows) == 1 and sum(int(r[1]) for r in rows) >= 1


def test_it_shows_an_outsider_only_their_own_progress(carol_web, alice, bob, due_session,
                                                      django_assert_max_num_queries):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    with django_assert_max_num_queries(5):
        html = carol_web.get("/progress/").content.decode()
    rows = re.findall(r"<tr><td>[\d-]+</td><td>(\d+)</td><td>(\d+)</td><td>(-?\d+)</td></tr>", html)
    assert rows and all(r == ("0", "0", "0") for r in rows)
