"""How a text is encoded (GSM-7 or UCS-2) and into how many segments it is split."""

import string

import pytest

from notifications.sms import encoding_and_segments, fits_one_segment
from notifications.sms.gsm import GSM7_BASIC, GSM7_EXTENSION

EXTENSION = "\f^{}\\[~]|€"
# The GSM 03.38 default alphabet that is not ASCII (0x1B, the escape, is not a character).
BASIC_NOT_ASCII = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà"


def test_the_tables_are_gsm_03_38():
    assert len(GSM7_BASIC) == 127  # 128 positions less the escape
    assert set(EXTENSION) == GSM7_EXTENSION
    assert set(BASIC_NOT_ASCII) <= GSM7_BASIC
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC | GSM7_EXTENSION


@pytest.mark.parametrize("char", list(string.printable))
def test_every_printable_ascii_character(char):
    if char in "\t\x0b`":
        # Tab, vertical tab and the backtick are not in GSM-7.
        assert encoding_and_segments(char) == ("UCS-2", 1)
        assert not fits_one_segment(char)
    elif char in EXTENSION:
        # Two septets each: 80 fill one segment, 81 do not.
        assert encoding_and_segments(char * 80) == ("GSM-7", 1)
        assert encoding_and_segments(char * 81) == ("GSM-7", 2)
        assert fits_one_segment(char * 80) and not fits_one_segment(char * 81)
    else:
        assert encoding_and_segments(char * 160) == ("GSM-7", 1)
        assert encoding_and_segments(char * 161) == ("GSM-7", 2)


@pytest.mark.parametrize("char", list(BASIC_NOT_ASCII))
def test_the_basic_alphabet_beyond_ascii_is_one_septet(char):
    assert encoding_and_segments(char * 160) == ("GSM-7", 1)
    assert fits_one_segment(char * 160)
    assert encoding_and_segments(char * 161) == ("GSM-7", 2)


@pytest.mark.parametrize("char", list(EXTENSION))
def test_extension_characters_count_two_septets(char):
    assert encoding_and_segments(char + "a" * 158) == ("GSM-7", 1)  # 160 septets
    assert fits_one_segment(char + "a" * 158)
    assert encoding_and_segments(char + "a" * 159) == ("GSM-7", 2)  # 161 septets
    assert not fits_one_segment(char + "a" * 159)


def test_exactly_160_and_161_septets():
    assert encoding_and_segments("a" * 160) == ("GSM-7", 1)
    assert fits_one_segment("a" * 160)
    assert encoding_and_segments("a" * 161) == ("GSM-7", 2)
    assert not fits_one_segment("a" * 161)


def test_concatenated_gsm_parts_hold_153_septets():
    assert encoding_and_segments("a" * 306) == ("GSM-7", 2)
    assert encoding_and_segments("a" * 307) == ("GSM-7", 3)
    assert encoding_and_segments("a" * 459) == ("GSM-7", 3)
    assert encoding_and_segments("a" * 460) == ("GSM-7", 4)
    # 76 euro signs (152 septets) a part: the 77th does not fit whole.
    assert encoding_and_segments("€" * 152) == ("GSM-7", 2)
    assert encoding_and_segments("€" * 153) == ("GSM-7", 3)


def test_an_extension_character_is_never_split_between_parts():
    # 306 septets, but the euro sign would straddle the first part's end: three parts.
    body = "a" * 152 + "€" + "a" * 152
    assert encoding_and_segments(body) == ("GSM-7", 3)
    # Moved one place earlier it fits: two parts.
    assert encoding_and_segments("a" * 151 + "€" + "a" * 153) == ("GSM-7", 2)


def test_a_curly_apostrophe_forces_ucs2():
    assert encoding_and_segments("Don't forget") == ("GSM-7", 1)
    assert encoding_and_segments("Don\u2019t forget") == ("UCS-2", 1)
    assert fits_one_segment("Don't forget")
    assert not fits_one_segment("Don\u2019t forget")
    # The whole text goes as UCS-2: 70 characters a segment, 67 a part.
    assert encoding_and_segments("\u2019" + "a" * 69) == ("UCS-2", 1)
    assert encoding_and_segments("\u2019" + "a" * 70) == ("UCS-2", 2)
    assert encoding_and_segments("\u2019" + "a" * 133) == ("UCS-2", 2)
    assert encoding_and_segments("\u2019" + "a" * 134) == ("UCS-2", 3)


@pytest.mark.parametrize("char", ["ç", "â", "ê", "ő", "ł", "я", "中", "\u00a0", "—", "“", "…"])
def test_characters_outside_gsm7_force_ucs2(char):
    assert encoding_and_segments("Hello " + char) == ("UCS-2", 1)
    assert not fits_one_segment("Hello " + char)


def test_extension_characters_in_ucs2_count_one_unit():
    assert encoding_and_segments("\u2019" + "€" * 69) == ("UCS-2", 1)
    assert encoding_and_segments("\u2019" + "€" * 70) == ("UCS-2", 2)


def test_emoji_count_two_ucs2_units():
    assert encoding_and_segments("🙂") == ("UCS-2", 1)
    assert encoding_and_segments("🙂" * 35) == ("UCS-2", 1)  # 70 units
    assert encoding_and_segments("🙂" * 36) == ("UCS-2", 2)  # 72 units
    assert encoding_and_segments("a" * 68 + "🙂") == ("UCS-2", 1)  # 70 units
    assert encoding_and_segments("a" * 69 + "🙂") == ("UCS-2", 2)  # 71 units
    assert not fits_one_segment("🙂")


def test_an_emoji_is_never_split_between_parts():
    # 134 units: two parts of 67 by count, but the surrogate pair would straddle the first
    # part's end.
    assert encoding_and_segments("a" * 66 + "🙂" + "a" * 66) == ("UCS-2", 3)
    assert encoding_and_segments("a" * 65 + "🙂" + "a" * 67) == ("UCS-2", 2)


def test_an_empty_body_is_one_gsm7_segment():
    assert encoding_and_segments("") == ("GSM-7", 1)
    assert fits_one_segment("")


def test_a_real_reminder():
    body = (
        "Care tracker: your daily check-in is ready. It takes a minute: "
        "https://tracker.example.org/c/AbC123 Reply STOP to opt out."
    )
    assert encoding_and_segments(body) == ("GSM-7", 1)
    assert fits_one_segment(body)
