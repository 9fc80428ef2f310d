"""Build e-mails from a template triplet: <name>_subject.txt, _body.txt, _body.html."""

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def build_email(
    *, template: str, context: dict, to: list[str], sender_name: str
) -> EmailMultiAlternatives:
    """Render `templates/<template>_{subject,body}` into a plain-text + HTML message."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}_body.txt", context)
    html = render_to_string(f"{template}_body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((sender_name, settings.DEFAULT_FROM_EMAIL)),
        to=to,
    )
    message.attach_alternative(html, "text/html")
    return message
