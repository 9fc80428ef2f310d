"""Forms of the patient's own pages: the daily check-in and the questionnaires."""

from typing import TYPE_CHECKING

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from care.domain.instruments import Instrument
from care.models import CheckIn
from care.models.records import SIDE_EFFECTS

if TYPE_CHECKING:
    # The type of gettext_lazy's strings; django-stubs-ext is a dev dependency only.
    from django_stubs_ext import StrPromise

SCALE = [(n, str(n)) for n in range(11)]


# The words for both ends sit above the 0 and the 10 (mood and energy: 10 is good;
# anxiety: 10 is bad). The template marks help text safe; the words are our own.
SCALE_ENDS = (
    '<span class="scale-end">0 = {}</span><span class="visually-hidden">, </span>'
    '<span class="scale-end">10 = {}</span>'
)


def scale_field(
    label: "str | StrPromise", low: "str | StrPromise", high: "str | StrPromise"
) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=SCALE,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "scale"}),
        help_text=format_lazy(SCALE_ENDS, low, high),
        error_messages={"required": _("Choose a number from 0 to 10.")},
    )


class OneValueEachForm(forms.Form):
    """A form refusing a one-value field sent twice (`item_9=2&item_9=0`), for which Django
    would silently keep the last value: a self-harm answer must never be overwritten."""

    def repeated_message(self, name: str) -> str:
        return str(_("This question is answered more than once; answer it once."))

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        getlist = getattr(self.data, "getlist", None)
        for name, field in self.fields.items():
            if getlist is None or getattr(field.widget, "allow_multiple_selected", False):
                continue
            if len(getlist(self.add_prefix(name))) > 1:
                self.add_error(name, self.repeated_message(name))
        return cleaned


class CheckInForm(OneValueEachForm):
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    mood = scale_field(_("How is your mood today?"), _("very low"), _("very good"))
    anxiety = scale_field(
        _("How anxious do you feel today?"), _("not anxious"), _("extremely anxious")
    )
    energy = scale_field(_("How is your energy today?"), _("no energy"), _("full of energy"))
    sleep_hours = forms.DecimalField(
        label=_("How many hours did you sleep last night?"),
        min_value=0,
        max_value=24,
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        error_messages={
            "required": _("Enter the hours you slept, e.g. 7 or 6.5."),
            "invalid": _("Enter the hours you slept as a number, e.g. 7 or 6.5."),
            "min_value": _("Hours of sleep cannot be below 0."),
            "max_value": _("Hours of sleep cannot be more than 24."),
        },
    )
    sleep_quality = forms.TypedChoiceField(
        label=_("How well did you sleep?"),
        choices=CheckIn.SleepQuality.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how well you slept.")},
    )
    side_effects = forms.MultipleChoiceField(
        label=_("Since your last session, have you had any of these?"),
        choices=SIDE_EFFECTS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Tick all that apply; leave empty if none."),
    )
    has_self_harm_thoughts = forms.TypedChoiceField(
        label=_("Have you had thoughts of harming yourself today?"),
        choices=[("no", _("No")), ("yes", _("Yes"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Please answer yes or no.")},
    )
    note = forms.CharField(
        label=_("Anything else you want your care team to know?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        help_text=_("Optional. Read during clinic hours, not around the clock."),
    )

    def checkin_values(self) -> dict:
        values = dict(self.cleaned_data)
        values.pop("client_id")
        return values

    @staticmethod
    def initial_for(checkin: CheckIn) -> dict:
        return {
            "mood": checkin.mood,
            "anxiety": checkin.anxiety,
            "energy": checkin.energy,
            "sleep_hours": checkin.sleep_hours,
            "sleep_quality": checkin.sleep_quality,
            "side_effects": checkin.side_effects,
            "has_self_harm_thoughts": "yes" if checkin.has_self_harm_thoughts else "no",
            "note": checkin.note,
        }


class QuestionnaireForm(OneValueEachForm):
    """All items of one instrument on one page, with the instrument's own answer options."""

    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, instrument: Instrument, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        options = [(o.value, o.label) for o in instrument.options]
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text}",
                choices=options,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Item %(n)s: please choose an answer.") % {"n": item.number},
                    "invalid_choice": _("Item %(n)s: choose one of the answers shown.")
                    % {"n": item.number},
                },
            )
        if instrument.difficulty:
            self.fields["difficulty"] = forms.TypedChoiceField(
                label=instrument.difficulty.text,
                choices=[(o.value, o.label) for o in instrument.difficulty_options],
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect,
                required=False,
            )

    def repeated_message(self, name: str) -> str:
        if not name.startswith("item_"):
            return super().repeated_message(name)
        return str(
            _("Item %(n)s is answered more than once; send each item once.")
            % {"n": name.removeprefix("item_")}
        )

    def answers(self) -> dict[str, int]:
        return {
            str(item.number): self.cleaned_data[f"item_{item.number}"]
            for item in self.instrument.items
        }
