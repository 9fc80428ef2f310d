"""Questionnaire scoring: validation, totals, bands and item flags. Pure functions.

Rules (docs/clinical.md §1-2): items are summed; there is no total when any
item is missing; bands by total; a self-harm item (PHQ-9 item 9) answered >= 1 raises the
flag whatever the total.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from care.domain.instruments import PCL5_DEFAULT_CUTOFF, Band, Instrument, pcl5_bands

SELF_HARM_FLAG = "self_harm"


class AnswersInvalid(ValueError):
    """Answers that cannot be scored; `errors` maps a field name to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class QuestionnaireScore:
    total: int | None
    band: Band | None
    missing: tuple[int, ...]
    flags: tuple[str, ...]
    # PCL-5 only: cluster sums (B, C, D, E) when complete.
    clusters: dict[str, int] = field(default_factory=dict)


SMALL_INT = re.compile(r"-?[0-9]{1,3}")


def _as_int(value: object) -> int | None:
    """A small whole number given as an int or plain ASCII digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and SMALL_INT.fullmatch(value.strip()):
        return int(value)
    return None


ITEM_KEY = re.compile(r"[1-9][0-9]{0,2}")


def _item_key(key: object) -> int | None:
    """The item a key names in its documented spelling: an int, or plain digits ("9")."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and ITEM_KEY.fullmatch(key):
        return int(key)
    return None


def _item_meant(key: object) -> int | None:
    """The item a key seems to mean, however spelled (" 9", "09", "+9", "item_9"), else None."""
    number = _item_key(key)
    if number is not None or not isinstance(key, str):
        return number
    try:
        return int(key.strip().removeprefix("item_"))
    except ValueError:
        return None


def validate_answers(
    instrument: Instrument, answers: Mapping[object, object], *, require_all: bool = True
) -> dict[int, int]:
    """Answers keyed by item number, each an allowed value; else AnswersInvalid.

    Keys are ints or plain digit strings ("1".."n"), one key per item; error keys are
    "item_<n>". Any other spelling of an item (" 9", "09"), two keys naming one item, unknown
    items and values outside the instrument's options are refused with a message naming the
    item: no key may silently replace another's answer (a self-harm item above all).
    """
    allowed = {option.value for option in instrument.options}
    low, high = min(allowed), max(allowed)
    errors: dict[str, str] = {}
    clean: dict[int, int] = {}
    numbers = {item.number for item in instrument.items}
    keys_of: dict[int, list[object]] = {}
    for key in answers:
        meant = _item_meant(key)
        if meant in numbers:
            keys_of.setdefault(meant, []).append(key)
    for number, keys in keys_of.items():
        if len(keys) > 1:
            errors[f"item_{number}"] = (
                f"Item {number} is answered more than once; send each item once."
            )
        elif _item_key(keys[0]) != number:
            errors[f"item_{number}"] = f'Item {number}: write its key as "{number}".'
    for key, raw in answers.items():
        meant = _item_meant(key)
        if meant is None or meant not in numbers:
            errors[f"item_{key}"] = f"{instrument.name} has no item {key}."
            continue
        number = meant
        if f"item_{number}" in errors or raw is None or raw == "":
            continue
        value = _as_int(raw)
        if value not in allowed:
            errors[f"item_{number}"] = (
                f"Item {number}: the answer must be a whole number from {low} to {high}."
            )
            continue
        clean[number] = value
    if require_all:
        for number in sorted(numbers - clean.keys()):
            errors.setdefault(f"item_{number}", f"Item {number}: please choose an answer.")
    if errors:
        raise AnswersInvalid(errors)
    return clean


def instrument_bands(
    instrument: Instrument, *, pcl5_cutoff: int = PCL5_DEFAULT_CUTOFF
) -> tuple[Band, ...]:
    """The instrument's bands (PCL-5's depend on the clinic's cut-off)."""
    return pcl5_bands(pcl5_cutoff) if instrument.code == "pcl5" else instrument.bands


def band_for_code(instrument: Instrument, code: str) -> Band | None:
    """The band a stored band code stands for (PCL-5 labels do not depend on the cut-off)."""
    return next((b for b in instrument_bands(instrument) if b.code == code), None)


def severity_band(
    instrument: Instrument, total: int, *, pcl5_cutoff: int = PCL5_DEFAULT_CUTOFF
) -> Band:
    """The band that contains `total`."""
    for band in instrument_bands(instrument, pcl5_cutoff=pcl5_cutoff):
        if band.low <= total <= band.high:
            return band
    raise ValueError(f"{total} is outside 0-{instrument.max_total} for {instrument.name}")


def item_flags(instrument: Instrument, answers: Mapping[int, int]) -> tuple[str, ...]:
    """Flags raised by single items, independent of the total."""
    if any(answers.get(number, 0) >= 1 for number in instrument.self_harm_items):
        return (SELF_HARM_FLAG,)
    return ()


def questionnaire_score(
    instrument: Instrument,
    answers: Mapping[int, int],
    *,
    pcl5_cutoff: int = PCL5_DEFAULT_CUTOFF,
) -> QuestionnaireScore:
    """Total, band and flags of validated answers; no total (and no band) if any is missing."""
    missing = tuple(item.number for item in instrument.items if item.number not in answers)
    flags = item_flags(instrument, answers)
    if missing:
        return QuestionnaireScore(total=None, band=None, missing=missing, flags=flags)
    total = sum(answers[item.number] for item in instrument.items)
    clusters: dict[str, int] = {}
    for item in instrument.items:
        if item.cluster:
            clusters[item.cluster] = clusters.get(item.cluster, 0) + answers[item.number]
    return QuestionnaireScore(
        total=total,
        band=severity_band(instrument, total, pcl5_cutoff=pcl5_cutoff),
        missing=(),
        flags=flags,
        clusters=clusters,
    )
