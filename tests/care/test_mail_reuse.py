"""The product's e-mails reuse parsed and folded headers from one e-mail to the next
(care.common.mail.ProductEmail): the bytes on the wire are exactly Django's."""

import copy
import email.generator
import email.policy

import pytest
from django.core.mail import EmailMultiAlternatives

from care.common.mail import ProductEmail, build_email

# A short sender name, one that needs encoding, one that needs folding.
SENDERS = ["Clinic A", "Clínica Añil de São Paulo, Ketamine & Wellness Center", "A" * 90]


@pytest.mark.parametrize("policy", [email.policy.SMTP, email.policy.default])
def test_reused_headers_write_the_same_bytes_as_djangos_own(monkeypatch, policy):
    # The one thing random in a message: its multipart boundary.
    monkeypatch.setattr(
        email.generator.Generator, "_make_boundary", classmethod(lambda cls, text=None: "==b==")
    )
    for round_ in range(3):  # the first parses the headers, the next reuse them
        for n, sender in enumerate(SENDERS):
            message = build_email(
                template="notifications/emails/checkin_reminder",
                context={"first_name": f"Zoë {n}", "link": "https://x.test/c/t"},
                to=[f"p{n}@example.org"],
                sender_name=sender,
                headers={
                    "Date": "Mon, 07 Dec 2026 16:00:00 -0000",
                    "Message-ID": f"<delivery-{n}@x.test>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
            assert isinstance(message, ProductEmail)
            djangos = copy.copy(message)
            djangos.__class__ = EmailMultiAlternatives

            built = message.message(policy=policy)
            assert built.policy.header_factory is not policy.header_factory  # the reusing one
            ours = built.as_bytes()

            assert ours == djangos.message(policy=policy).as_bytes(), (round_, sender)
