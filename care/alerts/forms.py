"""Forms of alerts: acknowledging one or several."""

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from care.common.forms import form_field
from care.domain.dates import weekday_moment
from care.models import Alert


class AlertAcknowledgeForm(forms.Form):
    action = forms.ChoiceField(
        label=_("What was done"),
        # "Replied in Messages" is recorded by the reply itself, never chosen.
        choices=[("", _("Choose…")), *((a.value, a.label) for a in Alert.MANUAL_ACTIONS)],
        error_messages={"required": _("Say what was done.")},
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )

    also = forms.ModelMultipleChoiceField(
        label=_("Also acknowledge this patient's other open safety alerts"),
        queryset=Alert.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Only this patient's other safety alerts can go along."),
            "invalid_pk_value": _("Only this patient's other safety alerts can go along."),
        },
    )

    def __init__(self, *args, related: QuerySet[Alert] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        also = form_field(self, "also", forms.ModelMultipleChoiceField)
        # Any of the patient's safety alerts is accepted (one acknowledged meanwhile is
        # skipped, not an error); only the open ones are offered.
        also.queryset = related if related is not None else Alert.objects.none()
        offered = [
            (a.pk, f"{a.reason} (raised {weekday_moment(timezone.localtime(a.created_at))})")
            for a in also.queryset
            if a.is_open
        ]
        if offered:
            also.widget.choices = offered
        else:
            also.widget = forms.MultipleHiddenInput()

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("action") == Alert.Action.OTHER and not cleaned.get("note", "").strip():
            self.add_error("note", _("Add a note when the action is “Other”."))
        return cleaned
