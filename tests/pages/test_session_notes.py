import re

from sessions_app import services
from sessions_app.models import SessionEvent, WingmanSession
from sessions_app.services import notes_digest
from tests.pages.conftest import HTMX


def save(client, session, notes, *, version=None, digest=None, htmx=False, **extra):
    data = {
        "notes": notes,
        "expected_version": version if version is not None else session.version,
        "base_digest": digest if digest is not None else notes_digest(session.notes),
        **extra,
    }
    return client.post(f"/sessions/{session.pk}/notes/", data, **(HTMX if htmx else {}))


def test_it_saves_notes_without_javascript(alice_web, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):  # both profiles are read once, after the write, for the answer
        response = save(alice_web, session, "Meet at the bar.\r\nBring cash.")
    assert response.status_code == 302
    assert response["Location"] == f"/sessions/{session.pk}/#notes"
    session.refresh_from_db()
    assert session.notes == "Meet at the bar.\nBring cash."
    assert session.version == 2
    assert "Notes saved." in alice_web.get(response["Location"]).content.decode()


def test_it_autosaves_through_htmx(alice_web, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):  # both profiles are read once, after the write, for the answer
        response = save(alice_web, session, "Bring cash.", htmx=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-state="saved">Saved' in html
    assert '<div id="notes-meta" hx-swap-oob="true">' in html
    assert 'name="expected_version" value="2"' in html
    assert f'name="base_digest" value="{notes_digest("Bring cash.")}"' in html
    assert WingmanSession.objects.get(pk=session.pk).notes == "Bring cash."


def test_it_removes_scripts_and_shows_notes_escaped(alice_web, session):
    save(alice_web, session, "<script>alert(1)</script>Hi & <b>bye</b> <3")
    session.refresh_from_db()
    assert session.notes == "Hi & <b>bye</b> <3"
    html = alice_web.get(f"/sessions/{session.pk}/").content.decode()
    assert "<script>alert" not in html and "<b>bye" not in html
    assert "Hi &amp; &lt;b&gt;bye&lt;/b&gt; &lt;3" in html


def test_it_shows_both_texts_when_the_buddy_changed_the_notes(alice_web, bob, session, unchanged,
                                                               django_assert_max_num_queries):
    services.notes_update(session_id=session.pk, user=bob, notes="Bob's plan")
    with unchanged(), django_assert_max_num_queries(7):
        response = save(alice_web, session, "Alice's plan", version=1, digest=notes_digest(""), htmx=True)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Bob changed the notes while you were writing." in html
    assert '<pre data-testid="theirs">Bob&#x27;s plan</pre>' in html
    assert '<pre data-testid="yours">Alice&#x27;s plan</pre>' in html
    assert 'name="expected_version" value="2"' in html  # the choices are made against the current version


def test_it_shows_the_conflict_without_javascript(alice_web, bob, session, unchanged):
    services.notes_update(session_id=session.pk, user=bob, notes="Bob's plan")
    with unchanged():
        response = save(alice_web, session, "Alice's plan", version=1, digest=notes_digest(""))
    assert response.status_code == 409
    html = response.content.decode()
    assert "<html" in html and "Keep mine" in html and "Use theirs" in html
    textarea = re.search(r"<textarea[^>]*>\n(.*?)</textarea>", html, re.S).group(1)
    assert textarea == "Alice&#x27;s plan"


def test_it_keeps_mine_after_a_conflict(alice_web, bob, session):
    services.notes_update(session_id=session.pk, user=bob, notes="Bob's plan")
    response = save(alice_web, session, "Alice's plan", version=2, digest=notes_digest("Bob's plan"))
    assert response.status_code == 302
    assert WingmanSession.objects.get(pk=session.pk).notes == "Alice's plan"


def test_it_takes_theirs_and_replaces_the_editor(alice_web, bob, session):
    services.notes_update(session_id=session.pk, user=bob, notes="Bob's plan")
    response = save(alice_web, session, "Bob's plan", version=2, digest=notes_digest("Bob's plan"), htmx=True,
                    take_theirs="1")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<div id="notes-editor" hx-swap-oob="true">' in html and "Bob&#x27;s plan</textarea>" in html
    assert SessionEvent.objects.filter(kind="notes_updated").count() == 1  # taking theirs writes nothing


def test_it_saves_when_only_other_fields_changed(alice_web, bob, due_session):
    """The buddy checked in (a new version) but left the notes alone: no conflict."""
    services.session_check_in(session_id=due_session.pk, user=bob)
    response = save(alice_web, due_session, "Still mine", version=1, digest=notes_digest(""), htmx=True)
    assert response.status_code == 200
    assert WingmanSession.objects.get(pk=due_session.pk).notes == "Still mine"


def test_it_refuses_notes_that_are_too_long(alice_web, session, unchanged):
    with unchanged():
        response = save(alice_web, session, "x" * 5001, htmx=True)
    assert response.status_code == 422
    assert 'data-state="failed"' in response.content.decode()


def test_it_refuses_notes_on_a_final_session(alice_web, alice, session, unchanged):
    services.session_cancel(session_id=session.pk, user=alice, reason="rain")
    session.refresh_from_db()
    with unchanged():
        response = save(alice_web, session, "too late")
    assert "Notes not saved: This session is cancelled" in alice_web.get(response["Location"]).content.decode()


def test_it_refuses_an_outsider(carol_web, session, unchanged, django_assert_max_num_queries):
    with unchanged(), django_assert_max_num_queries(5):
        response = save(carol_web, session, "carol was here", htmx=True)
    assert response.status_code == 403
    assert "The Blue Door" not in response.content.decode()


def test_it_refuses_a_missing_version(alice_web, session, unchanged):
    with unchanged():
        response = alice_web.post(f"/sessions/{session.pk}/notes/", {"notes": "x"}, **HTMX)
    assert response.status_code == 422


def test_it_keeps_plain_text_notes_as_typed_and_shows_them_escaped(alice_web, session):
    text = "a<b and c>d, email me <bob@example.com>"
    response = save(alice_web, session, text)
    assert response.status_code == 302
    assert WingmanSession.objects.get(pk=session.pk).notes == text
    page = alice_web.get(f"/sessions/{session.pk}/").content.decode()
    assert "a&lt;b and c&gt;d, email me &lt;bob@example.com&gt;" in page
    assert "<bob@example.com>" not in page and "c>d" not in page
