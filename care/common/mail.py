"""Building the e-mails the product sends: a template triplet into a plain-text + HTML
message from the clinic's name, with Message-IDs under the site's own name.

The reminders and alert e-mails (notifications.emails) and the account e-mails (invitations,
allauth's) are all built here."""

import email.policy
import re
import secrets
from email.headerregistry import BaseHeader, HeaderRegistry
from email.policy import EmailPolicy
from email.utils import formataddr, make_msgid
from functools import cache, lru_cache
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
    message = ProductEmail(
        subject=subject,
        body=text,
        from_email=formataddr((sender_name, settings.DEFAULT_FROM_EMAIL)),
        to=to,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


# Headers whose values repeat from one e-mail to the next (the subject and the sender of a
# kind, the parts' MIME headers, the list headers): each value is parsed once.
REPEATED_HEADERS = frozenset(
    {
        "subject",
        "from",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "list-id",
        "list-unsubscribe-post",
    }
)


class _FoldedOnce:
    """A header that keeps its folded text (what the generator writes) for each way of folding
    it was asked for: a reused header is folded once, not once per e-mail. The standard
    library's folding reads three things of the policy (email._header_value_parser): the line
    length, the line ending and whether UTF-8 is allowed; the generator clones the policy for
    each part, so these are the key, not the policy."""

    def fold(self, *, policy) -> str:
        folded = self.__dict__.setdefault("_folded", {})
        key = (policy.max_line_length, policy.linesep, policy.utf8)
        if key not in folded:
            folded[key] = super().fold(policy=policy)  # type: ignore[misc]  # BaseHeader's
        return folded[key]


class _ReusingHeaderRegistry(HeaderRegistry):
    """The standard library's header factory, made cheaper for many e-mails alike.

    It makes a new class for every header it parses (`__getitem__`, asked twice per header
    set); that class is made once per header name here. A value of REPEATED_HEADERS is
    parsed once and its header object reused, folded once (_FoldedOnce): header objects are
    immutable strings with their parse (a multipart's boundary, unique to each e-mail, is
    never reused). The bytes written are the same (tests/care/test_mail_reuse.py compares them).
    """

    @cache  # noqa: B019  # a handful of registries, one per policy, for the process's life
    def __getitem__(self, name: str) -> type[BaseHeader]:
        cls = self.registry.get(name.lower(), self.default_class)
        return type("_" + cls.__name__, (_FoldedOnce, cls, self.base_class), {})

    def __call__(self, name: str, value):
        if type(value) is str and name.lower() in REPEATED_HEADERS and "boundary=" not in value:
            return self._parsed(name, value)
        return self[name](name, value)

    @lru_cache(maxsize=512)  # noqa: B019  # as above
    def _parsed(self, name: str, value: str) -> BaseHeader:
        return self[name](name, value)


@lru_cache(maxsize=8)
def _reusing(policy: EmailPolicy) -> EmailPolicy:
    return policy.clone(header_factory=_ReusingHeaderRegistry())


class ProductEmail(EmailMultiAlternatives):
    """An e-mail of build_email: Django's, its MIME message built with header objects reused
    from one e-mail to the next (_ReusingHeaderRegistry)."""

    def message(self, *, policy=email.policy.default):
        if isinstance(policy, EmailPolicy) and type(policy.header_factory) is HeaderRegistry:
            policy = _reusing(policy)
        return super().message(policy=policy)


def invitation_message_id(invitation_id: int) -> str:
    """The Message-ID of an invitation e-mail: names the invitation (the demo Outbox shows it
    only while the invitation can still be used), unique per send."""
    return f"<invitation-{invitation_id}.{secrets.token_hex(8)}@{site_mail_domain()}>"


INVITATION_MESSAGE_ID = re.compile(r"<invitation-(\d+)\.[0-9a-f]+@[^>]+>")


def site_mail_domain() -> str:
    """The host name of SITE_URL: the site's own name in Message-IDs and List-Ids."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"
