"""Phone numbers as people read and dial them, and the form field that takes them.

Numbers are stored in E.164 (`+13125550100`, django-phonenumber-field over Google's
libphonenumber). A number is shown in its national form when it belongs to the clinic's
country ("(312) 555-0100"), in international form otherwise ("+44 20 7946 0018"), and
dialled through a `tel:` link on its E.164 form. A number typed without a country code is
read as the clinic's country's. Contact details are personal data: nothing here logs them.
"""

from typing import TYPE_CHECKING

import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber, to_python

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def _number(value: object) -> PhoneNumber | None:
    if not value:
        return None
    number = value if isinstance(value, PhoneNumber) else to_python(str(value))
    if not isinstance(number, PhoneNumber) or not number.is_valid():
        return None
    return number


def phone_display(value: object, country: str) -> str:
    """National form for a number dialled from `country` without its country code (one of
    the same calling code: Jersey's numbers from the UK, Canada's from the US), international
    otherwise ("" for none; an invalid stored value as it was typed)."""
    number = _number(value)
    if number is None:
        return str(value or "")
    if number.country_code == phonenumbers.country_code_for_region(country):
        return number.as_national
    return number.as_international


def phone_href(value: object) -> str:
    """ "tel:+13125550100" ("" for none or an invalid number)."""
    number = _number(value)
    return f"tel:{number.as_e164}" if number is not None else ""


def phone_field(
    label: "str | StrPromise", *, help_text: "str | StrPromise" = ""
) -> PhoneNumberField:
    """An optional phone number; `set_phone_region` gives it the clinic's country."""
    return PhoneNumberField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        error_messages={
            "invalid": _(
                "Enter a valid phone number, for example with its area code, or starting "
                "with + and the country code."
            )
        },
    )


def set_phone_region(form: forms.BaseForm, country: str) -> None:
    """Read the form's phone numbers typed without a country code as `country`'s, and show
    the stored ones in that country's national form."""
    for field in form.fields.values():
        if isinstance(field, PhoneNumberField):
            field.region = country


def phone_initial(value: object, country: str) -> str:
    """A stored number as a form shows it again (national form in the clinic's country)."""
    return phone_display(value, country) if value else ""
