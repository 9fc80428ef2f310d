"""What a reader sees in an e-mail, for the tests that check it says nothing about health."""

import re


def mail_words(message) -> str:
    """Subject, bodies, sender and headers, lower-cased, without link addresses: links carry
    random tokens, which may spell "gad" or "phq" by chance."""
    text = " ".join(
        [
            message.subject,
            message.body,
            message.alternatives[0].content,
            message.from_email,
            str(message.extra_headers),
        ]
    ).lower()
    return re.sub(r"https?://\S+", " ", text)
