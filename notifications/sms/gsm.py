"""How a text message is encoded and into how many segments it is split (pure, no Django).

A text goes as GSM-7 when every character is in the GSM 03.38 default alphabet or its
extension table, else as UCS-2 (UTF-16 code units on the wire). One segment holds 160 septets
or 70 UCS-2 units; a longer text is concatenated, each part losing room to its header: 153
septets or 67 units a part. An extension character costs two septets (an escape and the
character) and a character outside the Basic Multilingual Plane (an emoji) two UCS-2 units
(a surrogate pair); neither is split between two parts, so a part may end a unit short.

An empty body is counted as one segment: whatever is sent is at least one message.
"""

# The GSM 03.38 default alphabet, in table order (0x1B, the escape to the extension table,
# is left out: it is never a character of the text).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as the escape and the character, two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


def _gsm7_costs(body: str) -> list[int] | None:
    """The septets of each character, or None when one is not in GSM-7."""
    costs = []
    for char in body:
        if char in GSM7_BASIC:
            costs.append(1)
        elif char in GSM7_EXTENSION:
            costs.append(2)
        else:
            return None
    return costs


def _ucs2_costs(body: str) -> list[int]:
    """The UTF-16 code units of each character: two for one outside the BMP."""
    return [2 if ord(char) > 0xFFFF else 1 for char in body]


def _segments(costs: list[int], single: int, part: int) -> int:
    """Parts needed: one if everything fits `single`, else parts of `part` filled in order,
    a character that does not fit whole going on to the next part."""
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def encoding_and_segments(body: str) -> tuple[str, int]:
    """("GSM-7", segments) when the body can go as GSM-7, else ("UCS-2", segments)."""
    costs = _gsm7_costs(body)
    if costs is not None:
        return GSM7, _segments(costs, GSM7_SINGLE, GSM7_PART)
    return UCS2, _segments(_ucs2_costs(body), UCS2_SINGLE, UCS2_PART)


def fits_one_segment(body: str) -> bool:
    """Whether the body goes as one GSM-7 segment (at most 160 septets)."""
    costs = _gsm7_costs(body)
    return costs is not None and sum(costs) <= GSM7_SINGLE
