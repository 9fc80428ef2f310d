"""One mail connection for a chunk of deliveries (notifications.sending.deliveries_send).

A chunk used to send each of its e-mails on a connection of its own: connect, greeting, EHLO
(on a real server also STARTTLS and a login), the e-mail, QUIT. `ChunkMailer` opens Django's
default mailer (MAILERS "default") at the first e-mail actually sent, sends every following
e-mail of the chunk over it, and is closed once at the end.

After a send that failed in any way the session is not used again. smtplib closes it itself
on a dropped connection, a timeout or a 421, and the next e-mail would fail on it for nothing
("please run connect() first"); an error that interrupts a command (the task's time limit)
leaves it open in the middle of an exchange the next e-mail must not inherit. The connection
is dropped without a QUIT (which could wait out a timeout once more) and the next e-mail
opens a new one; the failed e-mail's fate is its caller's, as before (notifications.sending:
deferred or failed by its error).
"""

import logging
import smtplib
from collections.abc import Callable
from contextlib import suppress

from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from care.common.smtp import Session

logger = logging.getLogger(__name__)


class ChunkMailer:
    """Sends e-mails over one connection of the default mailer, opened when first needed."""

    def __init__(self) -> None:
        self._backend: BaseEmailBackend | None = None

    def send(
        self, message: EmailMessage, *, before_content: Callable[[], None] | None = None
    ) -> None:
        """Send one e-mail, raising the mailer's error (smtplib's, an OSError) if it fails.
        `before_content` runs before the e-mail goes: on the product's SMTP sessions after
        the server answered its MAIL, RCPT and DATA (care.common.smtp.Session), on another
        mailer before it is handed the e-mail; not at all if the e-mail fails before."""
        if not message.recipients():
            if before_content is not None:
                before_content()
            return  # as EmailMessage.send: nobody to send to, nothing to connect for
        backend = self._backend
        if backend is None:
            backend = mail.mailers.default
            try:
                backend.open()
            except BaseException:
                _drop(backend)
                raise
            self._backend = backend
        session = _session(backend)
        # On the product's own SMTP sessions the callable waits for the server's answers.
        holding = session if isinstance(session, Session) and before_content else None
        if holding is not None:
            holding.before_content = before_content
        elif before_content is not None:
            before_content()
        try:
            backend.send_messages([message])
        except BaseException:
            # Whatever went wrong (an SMTP error, a timeout, the task's time limit), the
            # next e-mail gets a new connection.
            self._backend = None
            _drop(backend)
            raise
        finally:
            if holding is not None:
                holding.before_content = None

    def close(self) -> None:
        """End the connection (QUIT), if one is open. Never raises: the e-mails it carried
        were accepted or refused already, whatever the server answers now."""
        self._backend, backend = None, self._backend
        if backend is None:
            return
        session = _session(backend)
        try:
            backend.close()
        except (smtplib.SMTPException, OSError) as exc:
            # Its class only: the error's text may quote the server's reply.
            logger.info("Closing the mail connection failed (%s)", type(exc).__name__)
            if session is not None:
                session.close()


def _session(backend: BaseEmailBackend) -> smtplib.SMTP | None:
    """The smtplib session of Django's SMTP backend (its `connection`), if it has one open."""
    session = getattr(backend, "connection", None)
    return session if isinstance(session, smtplib.SMTP) else None


def _drop(backend: BaseEmailBackend) -> None:
    """Close a mailer's connection without a word to the server."""
    # Closing smtplib's socket first makes the backend's close() skip the QUIT (smtplib then
    # has nothing to send it over) and only forget the session.
    session = _session(backend)
    if session is not None:
        session.close()
    with suppress(smtplib.SMTPException, OSError):
        backend.close()
