"""Form helpers every room's forms use."""

from functools import partial

from django import forms
from django.utils.translation import gettext_lazy as _

from care.domain.timezones import timezone_groups


def form_field[F: forms.Field](form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """The form's own copy of a declared field, typed as the kind it was declared
    (`form.fields` holds plain `Field`s to a type checker); any other kind is a bug."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field


def timezone_field() -> forms.ChoiceField:
    """A zone picker grouped by country; forms put the clinic's country first
    (`timezone_groups(clinic.tz)`). `static/js/zone-filter.js` adds a search box."""
    return forms.ChoiceField(
        label=_("Time zone"),
        choices=partial(timezone_groups, "America/New_York"),
        widget=forms.Select(attrs={"data-zone-filter": ""}),
        help_text=_("Grouped by country, this clinic's country first."),
    )


class DateInput(forms.DateInput):
    input_type = "date"
