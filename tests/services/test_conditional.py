from django.utils import timezone

from sessions_app import rules
from sessions_app.conditional import etag_matches, expected_version, session_etag


def test_it_puts_the_version_first_in_the_etag(session, alice, bob):
    allowed = rules.allowed_actions(session, alice, timezone.now())
    etag = session_etag(session, alice, allowed)
    assert etag.startswith(f'"{session.version}-')
    assert etag != session_etag(session, bob, allowed)
    assert session_etag(session, alice, allowed, variant="p") != etag


def test_it_matches_if_none_match_lists_weak_tags_and_star():
    etag = '"3-f00d"'
    assert etag_matches(etag, etag)
    assert etag_matches(f'"other", W/{etag}', etag)
    assert etag_matches("*", etag)
    assert not etag_matches('"3-deadbeef"', etag)
    assert not etag_matches(None, etag)


def test_it_reads_the_version_from_if_match():
    assert expected_version(None) is None
    assert expected_version("*") is None
    assert expected_version('"12-abcdef"') == 12
    assert expected_version("12") == 12
    assert expected_version('W/"5-x"') == 5
    assert expected_version('"nonsense"') == 0
    assert expected_version("9" * 40) == 0
