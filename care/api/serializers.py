"""DRF serializers of the patient API: plain input validation and output shapes.

Output serializers are the OpenAPI contract too: where a view returns a plain dict, it
returns it through its serializer, so the body and the schema cannot drift apart.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from care.domain.instruments import INSTRUMENTS, Instrument
from care.domain.scoring import band_for_code, instrument_bands
from care.models import Assessment, CheckIn
from care.models.records import SIDE_EFFECTS


class CheckInInput(serializers.Serializer):
    client_id = serializers.UUIDField(required=False, allow_null=True)
    mood = serializers.IntegerField(min_value=0, max_value=10)
    anxiety = serializers.IntegerField(min_value=0, max_value=10)
    energy = serializers.IntegerField(min_value=0, max_value=10)
    sleep_hours = serializers.DecimalField(
        max_digits=3, decimal_places=1, min_value=0, max_value=24
    )
    sleep_quality = serializers.ChoiceField(choices=CheckIn.SleepQuality.choices)
    side_effects = serializers.ListField(
        child=serializers.ChoiceField(choices=[code for code, _ in SIDE_EFFECTS]),
        required=False,
        default=list,
        max_length=len(SIDE_EFFECTS),
    )
    has_self_harm_thoughts = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate_side_effects(self, value: list[str]) -> list[str]:
        return sorted(set(value), key=value.index)


class CheckInOutput(serializers.ModelSerializer):
    class Meta:
        model = CheckIn
        fields = [
            "local_date",
            "mood",
            "anxiety",
            "energy",
            "sleep_hours",
            "sleep_quality",
            "side_effects",
            "has_self_harm_thoughts",
            "note",
            "version",
            "submitted_at",
            "updated_at",
        ]


_CHECKIN_OUTPUT = CheckInOutput()


def checkin_data(checkin: CheckIn) -> dict:
    """`CheckInOutput(checkin).data`, from one serializer whose fields are built once: a
    ModelSerializer builds its fields again for every instance, most of what it costs."""
    return _CHECKIN_OUTPUT.to_representation(checkin)


class AssessmentInput(serializers.Serializer):
    client_id = serializers.UUIDField(required=False, allow_null=True)
    instrument = serializers.ChoiceField(choices=sorted(INSTRUMENTS))
    answers = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        allow_empty=False,
        help_text=(
            'Item number as plain digits ("1" to the last item) -> the chosen answer\'s value. '
            'Each item once: another spelling of an item (" 9", "09") or a key given twice is '
            "a 400 naming `answers.item_N`; an unanswered (null) item too."
        ),
    )
    difficulty = serializers.IntegerField(min_value=0, max_value=3, required=False, allow_null=True)


class AssessmentOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    band_label = serializers.SerializerMethodField()
    max_total = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "instrument",
            "answers",
            "difficulty",
            "total",
            "max_total",
            "band",
            "band_label",
            "flags",
            "completed_at",
        ]

    def get_band_label(self, assessment: Assessment) -> str:
        band = band_for_code(INSTRUMENTS[assessment.instrument], assessment.band)
        return band.label if band else ""

    def get_max_total(self, assessment: Assessment) -> int:
        return INSTRUMENTS[assessment.instrument].max_total


def instrument_data(instrument: Instrument, *, pcl5_cutoff: int) -> dict:
    """An instrument's definition, with items, options, codes and bands."""

    def options(values):
        return [{"value": o.value, "label": o.label, "loinc": o.loinc} for o in values]

    return {
        "code": instrument.code,
        "name": instrument.name,
        "title": instrument.title,
        "instructions": instrument.instructions,
        "stem": instrument.stem,
        "recall": instrument.recall,
        "panel_loinc": instrument.panel_loinc,
        "total_loinc": instrument.total_loinc,
        "max_total": instrument.max_total,
        "items": [
            {"number": i.number, "text": i.text, "loinc": i.loinc, "cluster": i.cluster}
            for i in instrument.items
        ],
        "options": options(instrument.options),
        "difficulty": (
            {
                "text": instrument.difficulty.text,
                "loinc": instrument.difficulty.loinc,
                "options": options(instrument.difficulty_options),
            }
            if instrument.difficulty
            else None
        ),
        "bands": [
            {"low": b.low, "high": b.high, "code": b.code, "label": b.label}
            for b in instrument_bands(instrument, pcl5_cutoff=pcl5_cutoff)
        ],
        "attribution": instrument.attribution,
    }


class OptionOutput(serializers.Serializer):
    value = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field "label", not Field.label
    loinc = serializers.CharField(allow_null=True, help_text="LOINC answer (LA) code.")


class ItemOutput(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()
    loinc = serializers.CharField(allow_null=True)
    cluster = serializers.CharField(allow_null=True, allow_blank=True)


class DifficultyOutput(serializers.Serializer):
    text = serializers.CharField()
    loinc = serializers.CharField(allow_null=True)
    options = OptionOutput(many=True)


class BandOutput(serializers.Serializer):
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field "label", not Field.label


class InstrumentOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    instructions = serializers.CharField()
    stem = serializers.CharField()
    recall = serializers.CharField()
    panel_loinc = serializers.CharField()
    total_loinc = serializers.CharField()
    max_total = serializers.IntegerField()
    items = ItemOutput(many=True)
    options = OptionOutput(many=True)
    difficulty = DifficultyOutput(allow_null=True)
    bands = BandOutput(many=True)
    attribution = serializers.CharField()


class CrisisResourceOutput(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # the field "label", not Field.label
    href = serializers.CharField(help_text="A tel:, sms: or https: link.")
    kind = serializers.ChoiceField(
        choices=["clinic", "national"],
        help_text="The patient's clinic's own line, or a national crisis line or emergency number.",
    )
    source = serializers.URLField(  # type: ignore[assignment]  # the field "source", not Field.source
        allow_null=True, help_text="The page a national number was checked against (null: clinic)."
    )
    checked = serializers.DateField(
        allow_null=True, help_text="When a national number was last checked (null: clinic)."
    )


class OpeningHoursOutput(serializers.Serializer):
    days = serializers.CharField(help_text="A weekday or a run of them: “Mon\u2013Fri”.")
    times = serializers.CharField(help_text="“09:00\u201312:00, 13:00\u201317:00”, or “closed”.")


class CrisisClinicOutput(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField(help_text="As dialled in the clinic's country; empty if none.")
    phone_href = serializers.CharField(help_text="A tel: link (E.164); empty if none.")
    after_hours_phone = serializers.CharField()
    after_hours_href = serializers.CharField()
    hours = OpeningHoursOutput(
        many=True, help_text="In the clinic's time zone; empty if not given."
    )
    time_zone = serializers.CharField(help_text="The clinic's IANA time zone.")
    open_now = serializers.BooleanField(allow_null=True, help_text="Null when no hours are given.")


class SafetyOutput(serializers.Serializer):
    """Present when the answers report thoughts of self-harm: show it at once."""

    alert_raised = serializers.BooleanField()
    country = serializers.CharField(help_text="The clinic's country (ISO 3166-1 alpha-2).")
    message = serializers.CharField()
    clinic = CrisisClinicOutput(allow_null=True)
    resources = CrisisResourceOutput(
        many=True,
        help_text="The clinic's lines first (the one to call now first), then the country's.",
    )


class CheckInSubmitted(serializers.Serializer):
    checkin = CheckInOutput()
    duplicate = serializers.BooleanField(help_text="True if this client_id was already saved.")
    safety = SafetyOutput(required=False)


class AssessmentSubmitted(serializers.Serializer):
    assessment = AssessmentOutput()
    duplicate = serializers.BooleanField(help_text="True if this client_id was already saved.")
    safety = SafetyOutput(required=False)


class PatientMeOutput(serializers.Serializer):
    role = serializers.ChoiceField(choices=["patient"])
    preferred_name = serializers.CharField()
    email = serializers.EmailField()
    time_zone = serializers.CharField()
    today = serializers.DateField(help_text="Today in the patient's time zone.")
    checked_in_today = serializers.BooleanField()
    questionnaires_due = serializers.ListField(child=serializers.CharField())


class StaffMeOutput(serializers.Serializer):
    role = serializers.ChoiceField(choices=["clinician", "admin"])
    full_name = serializers.CharField()
    email = serializers.EmailField()
    clinic = serializers.CharField()


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "example": "19:00"}
)
class WallClockField(serializers.TimeField):
    """A time of day on the patient's own clock, written "HH:MM"."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)
