"""DRF serializers of the patient API: plain input validation and output shapes."""

from rest_framework import serializers

from ..instruments import INSTRUMENTS, Instrument
from ..models import Assessment, CheckIn
from ..models.records import SIDE_EFFECTS
from ..scoring import band_for_code, instrument_bands


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


class AssessmentInput(serializers.Serializer):
    client_id = serializers.UUIDField(required=False, allow_null=True)
    instrument = serializers.ChoiceField(choices=sorted(INSTRUMENTS))
    answers = serializers.DictField(child=serializers.JSONField(), allow_empty=False)
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
