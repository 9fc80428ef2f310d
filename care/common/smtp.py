"""The SMTP mailer: Django's, sending the product's e-mails as the bytes they write
themselves (care.common.mail.ProductEmail.wire) when they can.

Django's backend builds each e-mail as an `email.message.EmailMessage`, writes it through the
standard library's generator and parses both addresses again for the envelope: about 2 ms of
a worker's CPU an e-mail, most of what a reminder costs to send. The bytes are the same
either way (tests/care/test_mail_wire.py); an e-mail of any other shape goes Django's way.
EMAIL_URL's smtp:// and submission schemes use this class (tracker.settings).

Its sessions can also hold back an e-mail's content until something is done (`Session.
before_content`): MAIL, RCPT and DATA are sent and answered first, then the callable runs,
then the content goes. The reminder sender waits there for the previous e-mail's `sent`
mark to be committed, so that its wait and those three round trips overlap while an e-mail
still never goes before the previous one is recorded (notifications.sending).
"""

import smtplib
from collections.abc import Callable

from django.core.mail.backends import smtp

from care.common.mail import ProductEmail


class Session(smtplib.SMTP):
    """smtplib's session, running `before_content` (once, then cleared) just before the
    content of an e-mail goes: the one part of an exchange smtplib sends as bytes (commands
    go as text), after the server answered DATA with 354."""

    before_content: Callable[[], None] | None = None

    def send(self, s) -> None:
        if isinstance(s, bytes) and self.before_content is not None:
            before, self.before_content = self.before_content, None
            before()
        super().send(s)


class SSLSession(Session, smtplib.SMTP_SSL):
    """`Session` over TLS from the first byte (EMAIL_URL's smtps://)."""


class EmailBackend(smtp.EmailBackend):
    @property
    def connection_class(self):
        return SSLSession if self.use_ssl else Session

    def _send(self, email_message) -> bool:
        wire = email_message.wire() if isinstance(email_message, ProductEmail) else None
        if wire is None:
            return super()._send(email_message)  # type: ignore[misc]  # not in Django's stubs
        sender, recipients, data = wire
        try:
            # Opened by send_messages before it calls _send, as for Django's own _send.
            self.connection.sendmail(sender, recipients, data)  # type: ignore[union-attr]
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
