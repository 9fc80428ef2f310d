"""Forms of messages: the patient's new message and reply, the care team's reply, staff note
and assignment."""

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from care.accounts.selectors import clinic_clinicians_list
from care.common.forms import form_field
from care.domain.messages import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    TextInvalid,
    message_body,
    message_subject,
)
from care.models import Clinic, User

if TYPE_CHECKING:
    # The type of gettext_lazy's strings; django-stubs-ext is a dev dependency only.
    from django_stubs_ext import StrPromise

URGENT_CHOICES = [
    ("no", _("No, it can wait until the clinic is open")),
    ("yes", _("Yes, I need help now")),
]


def body_field(label: "str | StrPromise", help_text: "str | StrPromise" = "") -> forms.CharField:
    # No max_length on the field: the browser sends each line break as two characters, and
    # the limit is of the text as stored (message_body); the box itself stops at the limit.
    return forms.CharField(
        label=label,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": BODY_MAX_LENGTH}),
        error_messages={"required": _("Write a message.")},
    )


class BodyForm(forms.Form):
    body = body_field(_("Message"))

    def clean_body(self) -> str:
        try:
            return message_body(self.cleaned_data["body"])
        except TextInvalid as invalid:
            raise ValidationError(invalid.reason, code="invalid") from invalid


class PatientReplyForm(BodyForm):
    body = body_field(
        _("Your message"),
        _("Text only, up to %(limit)s characters.") % {"limit": f"{BODY_MAX_LENGTH:,}"},
    )
    urgent = forms.ChoiceField(
        label=_("Is this urgent?"),
        choices=URGENT_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether this is urgent.")},
    )

    @property
    def is_urgent(self) -> bool:
        return self.cleaned_data.get("urgent") == "yes"


class MessageStartForm(PatientReplyForm):
    subject = forms.CharField(
        label=_("Subject"),
        widget=forms.TextInput(attrs={"maxlength": SUBJECT_MAX_LENGTH}),
        error_messages={"required": _("Give the message a subject.")},
    )
    field_order = ["subject", "body", "urgent"]

    def clean_subject(self) -> str:
        try:
            return message_subject(self.cleaned_data["subject"])
        except TextInvalid as invalid:
            raise ValidationError(invalid.reason, code="invalid") from invalid


class StaffReplyForm(BodyForm):
    body = body_field(_("Reply to the patient"))


class StaffNoteForm(BodyForm):
    body = body_field(_("Staff note"), _("Seen by the care team only; the patient never sees it."))

    prefix = "note"  # its own field names and ids beside the reply's on one page


class ThreadAssignForm(forms.Form):
    assigned_to = forms.ModelChoiceField(
        label=_("Assigned to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
        error_messages={"invalid_choice": _("Choose someone of the care team.")},
    )

    def __init__(self, *args, clinic: Clinic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        clinicians = clinic_clinicians_list(clinic=clinic)
        form_field(self, "assigned_to", forms.ModelChoiceField).queryset = clinicians
