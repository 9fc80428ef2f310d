"""The API's JSON parser: a body whose objects repeat a key is refused, never read as the last.

Python's json keeps the last of two equal keys, so `{"9": 3, "9": 0}` would store item 9 as 0
and raise no safety alert. Every API body is parsed here (REST_FRAMEWORK's
DEFAULT_PARSER_CLASSES); a repeat is a 400 `parse_error` whose `errors` names the key by its
path (`answers.9`, or what the view's `repeated_key_field(path)` calls it).

Nesting is limited too: json recurses once per level, and a body a hundred thousand levels
deep raised RecursionError (a 500). Arrays and objects are counted before json reads the
body; deeper than MAX_DEPTH is a 400 `parse_error`. No body of the API needs more than a few.
"""

import codecs
import re
from collections.abc import Iterable

from rest_framework.exceptions import ParseError
from rest_framework.parsers import (  # type: ignore[attr-defined]  # get_encoding: unstubbed
    JSONParser,
    get_encoding,
)
from rest_framework.utils import json

MAX_DEPTH = 64

# A string (its escapes included) or a bracket: brackets inside strings are not nesting.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


class TooDeep(ParseError):
    def __init__(self) -> None:
        super().__init__(f"JSON parse error - arrays and objects nested deeper than {MAX_DEPTH}.")


def _check_depth(text: str) -> None:
    """Raise TooDeep if arrays and objects nest deeper than MAX_DEPTH; in linear time."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # the usual case: too few brackets to matter, no scan
    depth = 0
    for match in _TOKENS.finditer(text):
        part = match.group()
        if part in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooDeep
        elif part in ("]", "}"):
            depth -= 1


class RepeatedKey(ParseError):
    """A JSON object in the body gives one key twice."""

    def __init__(self, path: tuple[str, ...], field: str) -> None:
        key = path[-1]
        where = f' in "{".".join(path[:-1])}"' if len(path) > 1 else ""
        super().__init__(f'JSON parse error - the key "{key}" appears more than once{where}.')
        self.path = path
        self.errors = {field: [f'The key "{key}" appears more than once.']}


class _Repeats(dict):
    """An object whose pairs repeated a key (`repeated`, the first such key)."""

    repeated = ""


def _object(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked, seen = _Repeats(obj), set()
    for key, _ in pairs:
        if key in seen:
            marked.repeated = key
            break
        seen.add(key)
    return marked


def _first_repeat(value: object, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path to the first repeated key in the parsed body, depth first, or None."""
    if isinstance(value, _Repeats):
        return (*path, value.repeated)
    items: Iterable[tuple[str, object]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for key, child in items:
        found = _first_repeat(child, (*path, key))
        if found:
            return found
    return None


class StrictJSONParser(JSONParser):
    """DRF's JSONParser, refusing repeated keys in any object of the body."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = get_encoding(parser_context)
        repeats: list[_Repeats] = []

        def hook(pairs: list[tuple[str, object]]) -> dict:
            obj = _object(pairs)
            if isinstance(obj, _Repeats):
                repeats.append(obj)
            return obj

        try:
            text = codecs.getreader(encoding)(stream).read()
            _check_depth(text)
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant, object_pairs_hook=hook)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if not repeats:  # the usual case: no walk through the body
            return data
        path = _first_repeat(data)
        if path is None:  # not seen: a repeat recorded is in the body; refused all the same
            raise ParseError("JSON parse error - repeated key")
        name_for = getattr(parser_context.get("view"), "repeated_key_field", None)
        raise RepeatedKey(path, name_for(path) if name_for else ".".join(path))
