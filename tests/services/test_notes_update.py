"""notes_update: plain text only, at most 5,000 characters, optional version check."""

from datetime import timedelta

import pytest

from sessions_app import services
from sessions_app.errors import InvalidInput, NotParticipant, RuleViolation, VersionMismatch
from tests.services.conftest import FINAL_STATES, events, fresh


def test_it_replaces_the_notes(session, alice, bob):
    services.notes_update(session_id=session.pk, user=alice, notes="Meet at the bar.")
    services.notes_update(session_id=session.pk, user=bob, notes="Meet at the bar.\nBob brings the map.")

    stored = fresh(session)
    assert stored.notes == "Meet at the bar.\nBob brings the map."
    assert stored.version == session.version + 2
    assert events(stored) == [("notes_updated", alice.pk), ("notes_updated", bob.pk)]


@pytest.mark.parametrize(
    "typed, kept",
    [
        ("<script>alert(1)</script>hello", "hello"),
        ("<b>x</b>", "<b>x</b>"),
        ('<a href="javascript:evil()">link</a> <img src=x onerror=alert(1)>', '<a href="evil()">link</a> <img src=x >'),
        ("<style>body{display:none}</style>plain", "plain"),
        ("a < b && c > d", "a < b && c > d"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;after", "&lt;script&gt;alert(1)&lt;/script&gt;after"),
        ("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;", "&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;"),
    ],
)
def test_it_keeps_plain_text_and_removes_only_script_markup(session, alice, typed, kept):
    services.notes_update(session_id=session.pk, user=alice, notes=typed)
    assert fresh(session).notes == kept


def test_it_removes_control_characters_but_keeps_lines_and_tabs(session, alice):
    services.notes_update(session_id=session.pk, user=alice, notes="a\x00b\x07c\x1b\r\nline\ttab\x7f")
    assert fresh(session).notes == "abc\nline\ttab"


def test_it_accepts_exactly_5000_characters(session, alice):
    services.notes_update(session_id=session.pk, user=alice, notes="n" * 5000)
    assert len(fresh(session).notes) == 5000


def test_it_refuses_more_than_5000_characters(session, alice, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as refusal:
        services.notes_update(session_id=session.pk, user=alice, notes="n" * 5001)
    assert "notes" in refusal.value.fields


@pytest.mark.parametrize("notes", [42, ["list"], {"a": 1}])
def test_it_refuses_a_non_string(session, alice, unchanged, notes):
    with unchanged(), pytest.raises(InvalidInput):
        services.notes_update(session_id=session.pk, user=alice, notes=notes)


def test_it_writes_with_the_current_version(session, alice):
    services.notes_update(session_id=session.pk, user=alice, notes="v1", expected_version=session.version)
    assert fresh(session).notes == "v1"


def test_it_refuses_a_stale_version_and_says_what_is_there(session, alice, bob, unchanged):
    services.notes_update(session_id=session.pk, user=bob, notes="Bob's plan")
    with unchanged(), pytest.raises(VersionMismatch) as refusal:
        services.notes_update(session_id=session.pk, user=alice, notes="Alice's plan", expected_version=session.version)
    assert refusal.value.code == "version_mismatch"
    assert refusal.value.data == {"current_version": session.version + 1, "current_notes": "Bob's plan"}


def test_the_same_text_again_writes_nothing(session, alice, unchanged):
    services.notes_update(session_id=session.pk, user=alice, notes="Same")
    with unchanged():
        services.notes_update(session_id=session.pk, user=alice, notes="Same<script>x</script>")


def test_it_refuses_an_outsider(session, carol, unchanged):
    with unchanged(), pytest.raises(NotParticipant):
        services.notes_update(session_id=session.pk, user=carol, notes="hi")


@pytest.mark.parametrize("final", FINAL_STATES, ids=lambda f: f["status"])
def test_it_refuses_a_final_session(make_session, alice, unchanged, final):
    session = make_session(starts_in=-timedelta(hours=1), **final)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.notes_update(session_id=session.pk, user=alice, notes="after the fact")
    assert refusal.value.code == "session_final"


def test_it_lets_an_editor_write_over_a_change_that_was_not_to_the_notes(make_session, alice, bob):
    from sessions_app.services import notes_digest

    running = make_session(starts_in=timedelta(minutes=10))
    started_from = running.version
    services.session_check_in(session_id=running.pk, user=bob)  # moves the version, not the notes
    saved = services.notes_update(session_id=running.pk, user=alice, notes="Window seats.",
                                  expected_version=started_from, base_notes_digest=notes_digest(""))
    assert saved.notes == "Window seats."


def test_it_refuses_an_editor_whose_text_the_buddy_changed(make_session, alice, bob, unchanged):
    from sessions_app.services import notes_digest

    session = make_session()
    started_from = session.version
    services.notes_update(session_id=session.pk, user=bob, notes="Bob's plan")
    with unchanged(), pytest.raises(VersionMismatch) as refusal:
        services.notes_update(session_id=session.pk, user=alice, notes="Alice's plan",
                              expected_version=started_from, base_notes_digest=notes_digest(""))
    assert refusal.value.data["current_notes"] == "Bob's plan"
