"""The API's one request parser: JSON, strictly.

DRF's JSONParser already refuses NaN and Infinity, but keeps the last of two
members with the same name: `{"notes": "a", "notes": "b"}` saved "b",
although the client may have meant either (and a proxy or a log in between
may have read the other). A name given twice is a parse error (422) here,
and so is a body in a charset the client names but nobody knows.
"""

import codecs

from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json


def _object_without_repeated_names(pairs: list[tuple[str, object]]) -> dict:
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ParseError(f"JSON parse error - a member name appears more than once: {', '.join(repeated)}.")
    return dict(pairs)


class StrictJSONParser(JSONParser):
    """JSON without NaN/Infinity and without a member named twice."""

    def parse(self, stream, media_type=None, parser_context=None):
        # A charset the client names must be one we can decode with (Django would quietly
        # fall back to UTF-8 for an unknown one); DRF's get_encoding also refuses codecs that decompress.
        charset = parse_header_parameters(media_type or "")[1].get("charset")
        encoding = get_encoding({"encoding": charset} if charset else (parser_context or {}))
        try:
            return json.load(codecs.getreader(encoding)(stream), parse_constant=json.strict_constant,
                             object_pairs_hook=_object_without_repeated_names)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
