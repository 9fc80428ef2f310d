"""What a message may hold (care.domain.messages): no database."""

from uuid import UUID, uuid5

import pytest

from care.domain.messages import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    TextInvalid,
    message_body,
    message_public_id,
    message_subject,
)


def test_a_body_keeps_its_line_breaks_as_newlines():
    assert message_body("  Hello,\r\nsecond line\rthird\n\n  ") == "Hello,\nsecond line\nthird"


def test_a_body_loses_control_characters_and_reordering_controls():
    typed = "a\x00b\x07c\x1bd\tx\u202eevil\u2066e\u2069 \x7f\u0085f"

    assert message_body(typed) == "abcd xevile f"


def test_a_body_keeps_what_people_write_in_any_script_and_emoji():
    text = "Ça va? 今日は 👩‍⚕️ — «ok»"

    assert message_body(text) == text


@pytest.mark.parametrize("typed", ["", "   ", "\n\r\n\t", "\x00\x01", "\u202e"])
def test_an_empty_body_is_refused(typed):
    with pytest.raises(TextInvalid, match="Write a message"):
        message_body(typed)


def test_a_body_of_the_limit_is_accepted_and_one_more_is_not():
    assert len(message_body("x" * BODY_MAX_LENGTH)) == BODY_MAX_LENGTH
    # Line breaks sent as \r\n count once, as stored.
    assert len(message_body("x\r\n" * (BODY_MAX_LENGTH // 2))) == BODY_MAX_LENGTH - 1

    with pytest.raises(TextInvalid, match=f"at most {BODY_MAX_LENGTH} characters"):
        message_body("x" * (BODY_MAX_LENGTH + 1))


def test_a_subject_is_one_line():
    assert message_subject(" About\nmy  next\tsession \x00") == "About my next session"


def test_a_subject_must_say_something_and_be_short():
    with pytest.raises(TextInvalid, match="subject"):
        message_subject(" \n ")
    assert message_subject("s" * SUBJECT_MAX_LENGTH) == "s" * SUBJECT_MAX_LENGTH
    with pytest.raises(TextInvalid, match=f"at most {SUBJECT_MAX_LENGTH}"):
        message_subject("s" * (SUBJECT_MAX_LENGTH + 1))


def test_a_message_id_is_the_same_every_time_and_differs_per_message_and_thread():
    thread = UUID("6f1c2b1e-8a0c-4e54-9d1b-2c4a0e6f7a10")
    other = UUID("0b7e4f8a-6a43-4c8e-9d1b-2f5c3e8a9d10")

    assert message_public_id(thread, 7) == message_public_id(str(thread), 7)
    assert message_public_id(thread, 7) == uuid5(thread, "message:7")
    assert len({message_public_id(thread, 7), message_public_id(thread, 8)}) == 2
    assert message_public_id(thread, 7) != message_public_id(other, 7)
