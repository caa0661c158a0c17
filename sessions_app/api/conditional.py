"""Conditional requests on sessions: ETag / If-None-Match for reads, If-Match for edits (RFC 9110)."""


def session_etag(version: int, digest: str) -> str:
    """Strong ETag: the version (so If-Match can name it) and selectors.session_view_digest."""
    return f'"{version}-{digest}"'


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",") if tag.strip()]


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    return if_none_match.strip() == "*" or etag.strip('"') in _tags(if_none_match)


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names: an ETag of ours or a bare version number.

    None when there is no precondition ("*" or no header); 0, which no
    session has, when the header names nothing we recognise, so the edit
    answers 412 as RFC 9110 wants for a non-matching If-Match.
    """
    if if_match is None or if_match.strip() in ("", "*"):
        return None
    for tag in _tags(if_match):
        version = tag.split("-", 1)[0]
        if version.isascii() and version.isdigit() and len(version) < 12:
            return int(version)
    return 0
