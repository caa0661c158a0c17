"""The session page leads with the viewer's next step: one primary action near the top, the other open
actions below it, the ones that are not open listed quietly with their reasons; cancelling only when allowed."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from sessions_app import services
from tests.pages.conftest import HTMX


def page(client, session, **headers) -> str:
    return client.get(f"/sessions/{session.pk}/", **headers).content.decode()


def next_step(html: str) -> str:
    start = html.index('data-testid="next-step"')
    return html[start:html.index("</section>", start)]


def primary_actions(html: str) -> list[str]:
    return re.findall(r'class="btn primary[^"]*" type="submit" data-action="([^"]+)"', html)


def test_it_leads_with_check_in_once_it_opens(alice_web, make_session):
    s = make_session(starts_in=timedelta(minutes=12))
    html = page(alice_web, s)
    step = next_step(html)
    assert 'data-step="check_in"' in step
    assert primary_actions(html) == ["check-in"]  # one primary action on the whole page
    assert "Check-in is open" in step
    # the step comes before the participants' cards
    assert html.index('data-testid="next-step"') < html.index('data-testid="participant-me"')
    # the form posts without JavaScript and swaps the panel with it
    assert f'<form method="post" action="/sessions/{s.pk}/check-in/"' in step
    assert f'hx-post="/sessions/{s.pk}/check-in/"' in step


def test_it_lists_what_cannot_be_done_quietly_with_the_reasons(alice_web, session):
    html = page(alice_web, session)
    step = next_step(html)
    assert 'data-step="wait_check_in"' in step and primary_actions(html) == []
    local = (session.scheduled_time - timedelta(minutes=30)).astimezone(ZoneInfo("Europe/Berlin"))
    assert f"Check-in opens at <time datetime=\"{local.isoformat()}\">{local:%H:%M}</time>" in step
    assert "disabled" not in html[html.index('<section id="session-panel"'):html.index('id="notes"')]
    others = step[step.index('data-testid="other-actions"'):]
    assert others.startswith('data-testid="other-actions">\n    <summary>Other actions (5)</summary>')
    assert ('<li data-unavailable="check-in"><strong>Check in</strong>: '
            "Check-in opens 30 minutes before the scheduled time.</li>") in others
    assert '<li data-unavailable="confirm"><strong>Confirm Bob completed their challenge</strong>:' in others
    assert 'data-action="check-in"' not in html and 'data-action="confirm"' not in html


def test_it_offers_the_cancel_form_only_while_cancelling_is_allowed(alice_web, alice, make_session):
    s = make_session(starts_in=timedelta(minutes=12))
    fold = next_step(page(alice_web, s))
    assert '<details class="fold" data-testid="cancel-fold">' in fold
    assert 'name="reason"' in fold and 'data-action="cancel"' in fold
    services.session_check_in(session_id=s.pk, user=alice)
    html = page(alice_web, s)
    assert 'data-action="cancel"' not in html and 'data-testid="cancel-fold"' not in html
    assert ('<li data-unavailable="cancel"><strong>Cancel the session</strong>: '
            "A session that has started can no longer be cancelled.</li>") in html


def test_in_progress_it_is_confirming_the_buddy(alice_web, alice, make_session):
    s = make_session(starts_in=-timedelta(minutes=5))
    services.session_check_in(session_id=s.pk, user=alice)
    html = page(alice_web, s)
    assert primary_actions(html) == ["confirm"]
    assert "Once Bob has done their challenge, confirm it." in next_step(html)
    assert 'class="btn" type="submit" data-action="pause"' in next_step(html)  # open, but not the step


def test_after_confirming_it_waits_for_the_buddy(alice_web, alice, due_session):
    services.session_confirm(session_id=due_session.pk, user=alice)
    html = page(alice_web, due_session)
    assert 'data-step="wait_buddy_confirm"' in html and primary_actions(html) == []
    assert "You confirmed Bob. Now Bob confirms your challenge." in next_step(html)


def test_the_buddys_new_time_is_answered_from_the_step(alice_web, bob_web, bob, session):
    proposed = timezone.now() + timedelta(days=2)
    services.session_reschedule_propose(session_id=session.pk, user=bob, scheduled_time=proposed,
                                        venue_name="Green Park")
    html = page(alice_web, session)
    step = next_step(html)
    assert primary_actions(html) == ["reschedule-accept"]
    assert "Bob proposes a new time:" in step and "<strong>Green Park</strong>" in step
    assert 'class="btn" type="submit" data-action="reschedule-decline">Decline the new time' in step
    mine = page(bob_web, session)
    assert 'data-step="wait_reschedule_answer"' in mine and primary_actions(mine) == []
    assert 'data-action="reschedule-decline">Withdraw your proposal' in next_step(mine)
    assert 'data-action="reschedule-accept"' not in mine


def test_an_htmx_action_answers_the_panel_with_the_new_step(alice_web, make_session):
    s = make_session(starts_in=timedelta(minutes=12))
    html = alice_web.post(f"/sessions/{s.pk}/check-in/", **HTMX).content.decode()
    assert html.lstrip().startswith('<section id="session-panel"')
    assert primary_actions(html) == ["confirm"]


def test_a_final_session_has_no_step(alice_web, alice, bob, due_session):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    html = page(alice_web, due_session)
    assert 'data-testid="next-step"' not in html and primary_actions(html) == []
    assert "nothing can change any more" in html


def test_when_the_buddy_confirmed_first_it_says_so(alice_web, bob, due_session):
    services.session_confirm(session_id=due_session.pk, user=bob)
    html = page(alice_web, due_session)
    assert primary_actions(html) == ["confirm"]
    assert "Bob confirmed your challenge; confirm theirs to complete the session." in next_step(html)
