"""Building the e-mails the product sends: a template triplet into a plain-text + HTML
message from the clinic's name, with Message-IDs under the site's own name.

The reminders and alert e-mails (notifications.emails) and the account e-mails (invitations,
allauth's) are all built here."""

import re
import secrets
from email.utils import formataddr, make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def build_email(
    *,
    template: str,
    context: dict,
    to: list[str],
    sender_name: str,
    headers: dict | None = None,
) -> EmailMultiAlternatives:
    """Render `templates/<template>_{subject,body}` into a plain-text + HTML message."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}_body.txt", context)
    html = render_to_string(f"{template}_body.html", context)
    # Message-IDs under the site's own name (Django's default is this machine's name,
    # often "localhost").
    headers = {"Message-ID": make_msgid(domain=site_mail_domain()), **(headers or {})}
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((sender_name, settings.DEFAULT_FROM_EMAIL)),
        to=to,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


def invitation_message_id(invitation_id: int) -> str:
    """The Message-ID of an invitation e-mail: names the invitation (the demo Outbox shows it
    only while the invitation can still be used), unique per send."""
    return f"<invitation-{invitation_id}.{secrets.token_hex(8)}@{site_mail_domain()}>"


INVITATION_MESSAGE_ID = re.compile(r"<invitation-(\d+)\.[0-9a-f]+@[^>]+>")


def site_mail_domain() -> str:
    """The host name of SITE_URL: the site's own name in Message-IDs and List-Ids."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"
