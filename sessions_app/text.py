"""User text is plain text: kept exactly as typed, except script-bearing markup.

Notes, reasons, venue and display names are never HTML. Every page escapes
them on output, so `a<b and c>d`, `<bob@example.com>` or `<3` are shown as
typed and nothing typed ever runs. An HTML parser cannot tell such text from
tags (it deleted it), so no parser is used here. What is removed, as defence
in depth for anyone who pastes the text somewhere less careful, is only what
can carry a script:

- ``<script>`` and ``<style>`` elements with their content (any case, with
  attributes, unclosed up to the end of the text), and stray end tags;
- event-handler attributes (``onerror=...``, ``onclick="..."``) inside
  something shaped like a tag;
- the ``javascript:`` and ``vbscript:`` URL schemes, however disguised with
  case, whitespace, control characters or character references: inside a
  tag always, in running text where a URL follows the colon (so the prose
  "JavaScript: the good parts" stays).

Each removal can join the text around it into a new match
(``<scr<script></script>ipt>``), so they repeat until nothing changes; every
pass that changes something makes the text shorter, so this ends.
"""

import re

_ELEMENT = re.compile(
    r"<(script|style)\b[^>]*(?:>.*?(?:</\s*\1\s*>|\Z)|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_END_TAG = re.compile(r"</\s*(?:script|style)\b[^>]*>?", re.IGNORECASE)

# Something shaped like a start tag: "<", a letter, then anything but angle brackets up to ">" or the end.
_TAG = re.compile(r"<[a-z][^<>]*(?:>|\Z)", re.IGNORECASE)
_EVENT_HANDLER = re.compile(
    r"""(?<=[\s/"'])on[a-z]+\s*=\s*(?:"[^"]*"?|'[^']*'?|[^\s>]*)""",
    re.IGNORECASE,
)


def _reference(char: str) -> str:
    """A regex for one character, typed or written as an HTML character reference."""
    codes = {ord(char.lower()), ord(char.upper())}
    decimal = "|".join(str(code) for code in sorted(codes))
    hexadecimal = "|".join(f"{code:x}" for code in sorted(codes))
    return rf"(?:{re.escape(char)}|&#0*(?:{decimal});?|&#x0*(?:{hexadecimal});?)"


# Browsers ignore whitespace and control characters inside a URL scheme; so do we.
_IGNORED = r"(?:[\s\x00-\x1f]|&#0*(?:9|10|13);?|&#x0*(?:9|a|d);?|&tab;|&newline;)*"
_COLON = r"(?::|&#0*58;?|&#x0*3a;?|&colon;)"


def _scheme(name: str) -> re.Pattern:
    return re.compile(_IGNORED.join(_reference(char) for char in name) + _IGNORED + _COLON, re.IGNORECASE)


_SCRIPT_SCHEMES = (_scheme("javascript"), _scheme("vbscript"))
# Outside a tag only a scheme that starts a URL counts: "JavaScript: the good parts" is prose.
_SCRIPT_URLS = tuple(re.compile(scheme.pattern + r"(?=\S)", re.IGNORECASE) for scheme in _SCRIPT_SCHEMES)


def _defused_tag(tag: re.Match) -> str:
    """A tag-shaped piece without event handlers and script URL schemes."""
    text = _EVENT_HANDLER.sub("", tag.group(0))
    for scheme in _SCRIPT_SCHEMES:
        text = scheme.sub("", text)
    return text


def _one_pass(text: str) -> str:
    # Whole elements first: a stray end tag removed too early would leave its start tag unclosed.
    without_elements = _ELEMENT.sub("", text)
    if without_elements != text:
        return without_elements
    text = _END_TAG.sub("", text)
    text = _TAG.sub(_defused_tag, text)
    for url in _SCRIPT_URLS:
        text = url.sub("", text)
    return text


def without_script_markup(text: str) -> str:
    """``text`` exactly as typed, minus script-bearing markup (see the module docstring)."""
    while True:
        cleaned = _one_pass(text)
        if cleaned == text:
            return text
        text = cleaned
