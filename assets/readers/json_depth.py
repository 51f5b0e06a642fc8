"""How deep a JSON text nests, found without parsing it: Python's parser recurses once per level and
fails with RecursionError near 1,000, so a reader checks the depth first and refuses a deeper text
with a reason (source option `max_json_depth`)."""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_deeper_than(text: str, limit: int) -> bool:
    """Whether the arrays and objects of a JSON text nest more than `limit` levels deep.

    Brackets inside strings do not count. A text with no more opening brackets than `limit` cannot nest
    deeper, and is answered without a scan (nearly every message).
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def depth_reason(limit: int) -> str:
    return f"JSON nested deeper than {limit} levels (source option max_json_depth)"
