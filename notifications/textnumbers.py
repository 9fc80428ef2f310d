"""Phone numbers texts may not go to (TextNumberBlock): stopped by the patient's STOP, or
refused for good by the provider; and the address the provider reports a text's fate to."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from notifications.models import TextNumberBlock

# The provider's error codes that say the number itself will never take a text (Twilio: 21211
# and 21217 invalid, 21610 unsubscribed at the carrier, 21614 not a mobile, 30005 unknown,
# 30006 a landline): only these stop texts to it. Others (a phone off for the evening, 30003;
# the account's settings; a text refused for its words) fail that text alone.
NUMBER_DEAD_CODES = frozenset({21211, 21217, 21610, 21614, 30005, 30006})


def text_number_block(
    *, number: str, reason: str, now: datetime, error_code: int | None = None
) -> bool:
    """Stop texts to `number` (E.164). A STOP block replaces a failure block (the number
    works: it wrote to us), a failure block never replaces a STOP one. Returns whether the
    number was free of blocks before."""
    if not number:
        return False
    block = TextNumberBlock.objects.filter(number=number).first()
    if block is None:
        _, created = TextNumberBlock.objects.get_or_create(
            number=number, defaults={"reason": reason, "error_code": error_code, "since": now}
        )
        return created
    if reason == TextNumberBlock.Reason.STOP and block.reason != reason:
        TextNumberBlock.objects.filter(pk=block.pk).update(
            reason=reason, error_code=None, since=now
        )
    return False


def text_number_unblock(*, number: str) -> bool:
    """Texts to `number` again (START); returns whether it was blocked."""
    deleted, _ = TextNumberBlock.objects.filter(number=number).delete()
    return bool(deleted)


def text_status_callback(delivery_id: int) -> str:
    """The webhook the provider reports the text's status to (notifications.views), naming
    its delivery: the provider signs the whole address, so the id cannot be forged, and its
    first report ("queued") records a text whose sender died before the provider's answer
    came back as sent (notifications.textreplies.text_status_receive), so the sweeper does
    not send it again."""
    return settings.SITE_URL + reverse("notifications:text-status") + f"?delivery={delivery_id}"
