"""The SMTP mailer: Django's, sending the product's e-mails as the bytes they write
themselves (care.common.mail.ProductEmail.wire) when they can.

Django's backend builds each e-mail as an `email.message.EmailMessage`, writes it through the
standard library's generator and parses both addresses again for the envelope: about 2 ms of
a worker's CPU an e-mail, most of what a reminder costs to send. The bytes are the same
either way (tests/care/test_mail_wire.py); an e-mail of any other shape goes Django's way.
EMAIL_URL's smtp:// and submission schemes use this class (tracker.settings).
"""

import smtplib

from django.core.mail.backends import smtp

from care.common.mail import ProductEmail


class EmailBackend(smtp.EmailBackend):
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
