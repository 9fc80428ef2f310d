"""Scoring: every band boundary, missing items, bad answers, the self-harm flag. No DB."""

import pytest

from care.domain.instruments import GAD7, PCL5, PHQ9
from care.domain.scoring import (
    SELF_HARM_FLAG,
    AnswersInvalid,
    questionnaire_score,
    severity_band,
    validate_answers,
)


def answers_totalling(instrument, total, *, spare=()):
    """Answers summing to `total`, filled from the last item backwards (sparing some)."""
    answers = {item.number: 0 for item in instrument.items}
    top = max(o.value for o in instrument.options)
    for item in reversed(instrument.items):
        if item.number in spare:
            continue
        step = min(top, total)
        answers[item.number] = step
        total -= step
    assert total == 0
    return answers


@pytest.mark.parametrize(
    ("instrument", "total", "band"),
    [
        (PHQ9, 0, "minimal"),
        (PHQ9, 4, "minimal"),
        (PHQ9, 5, "mild"),
        (PHQ9, 9, "mild"),
        (PHQ9, 10, "moderate"),
        (PHQ9, 14, "moderate"),
        (PHQ9, 15, "moderately_severe"),
        (PHQ9, 19, "moderately_severe"),
        (PHQ9, 20, "severe"),
        (PHQ9, 27, "severe"),
        (GAD7, 0, "minimal"),
        (GAD7, 4, "minimal"),
        (GAD7, 5, "mild"),
        (GAD7, 9, "mild"),
        (GAD7, 10, "moderate"),
        (GAD7, 14, "moderate"),
        (GAD7, 15, "severe"),
        (GAD7, 21, "severe"),
        (PCL5, 0, "below_cutoff"),
        (PCL5, 32, "below_cutoff"),
        (PCL5, 33, "probable_ptsd"),
        (PCL5, 80, "probable_ptsd"),
    ],
)
def test_questionnaire_score_puts_each_boundary_in_its_band(instrument, total, band):
    # Item 9 of PHQ-9 stays 0 where the total allows, so the flag does not muddle the case.
    spare = (9,) if instrument is PHQ9 and total <= 24 else ()
    answers = answers_totalling(instrument, total, spare=spare)

    score = questionnaire_score(instrument, answers)

    assert score.total == total
    assert score.band.code == band


@pytest.mark.parametrize(
    ("cutoff", "total", "band"),
    [
        (31, 30, "below_cutoff"),
        (31, 31, "probable_ptsd"),
        (38, 37, "below_cutoff"),
        (38, 38, "probable_ptsd"),
    ],
)
def test_pcl5_threshold_is_set_by_the_clinic(cutoff, total, band):
    assert severity_band(PCL5, total, pcl5_cutoff=cutoff).code == band


def test_pcl5_cluster_scores():
    answers = {n: (2 if n <= 5 else 1) for n in range(1, 21)}

    score = questionnaire_score(PCL5, answers)

    assert score.clusters == {"B": 10, "C": 2, "D": 7, "E": 6}
    assert score.total == 25


def test_no_total_and_no_band_when_an_item_is_missing():
    answers = {n: 3 for n in range(1, 10)}
    del answers[4]

    score = questionnaire_score(PHQ9, answers)

    assert score.total is None and score.band is None
    assert score.missing == (4,)


@pytest.mark.parametrize("value", [1, 2, 3])
def test_item_9_raises_the_self_harm_flag_even_with_a_minimal_total(value):
    answers = {n: 0 for n in range(1, 10)} | {9: value}

    score = questionnaire_score(PHQ9, answers)

    assert (score.total, score.band.code) == (value, "minimal")
    assert score.flags == (SELF_HARM_FLAG,)


def test_item_9_flag_is_raised_even_when_other_items_are_missing():
    score = questionnaire_score(PHQ9, {9: 1})

    assert score.total is None
    assert score.flags == (SELF_HARM_FLAG,)


def test_a_severe_total_without_item_9_raises_no_flag():
    answers = {n: 3 for n in range(1, 9)} | {9: 0}

    score = questionnaire_score(PHQ9, answers)

    assert score.total == 24 and score.flags == ()


def test_gad7_and_pcl5_have_no_self_harm_item():
    assert questionnaire_score(GAD7, {n: 3 for n in range(1, 8)}).flags == ()
    assert questionnaire_score(PCL5, {n: 4 for n in range(1, 21)}).flags == ()


@pytest.mark.parametrize(
    ("answers", "key", "message"),
    [
        ({"9": "4"}, "item_9", "Item 9: the answer must be a whole number from 0 to 3."),
        ({"1": -1}, "item_1", "from 0 to 3"),
        ({"2": "often"}, "item_2", "from 0 to 3"),
        ({"3": 1.5}, "item_3", "from 0 to 3"),
        ({"4": True}, "item_4", "from 0 to 3"),
        ({"10": 1}, "item_10", "PHQ-9 has no item 10."),
        ({"x": 1}, "item_x", "has no item"),
    ],
)
def test_validate_answers_names_the_bad_item(answers, key, message):
    full = {str(n): 0 for n in range(1, 10)} | answers

    with pytest.raises(AnswersInvalid) as raised:
        validate_answers(PHQ9, full)

    assert message in raised.value.errors[key]


def test_validate_answers_lists_every_unanswered_item():
    with pytest.raises(AnswersInvalid) as raised:
        validate_answers(GAD7, {"1": 0, "2": 1})

    assert set(raised.value.errors) == {f"item_{n}" for n in range(3, 8)}
    assert raised.value.errors["item_5"] == "Item 5: please choose an answer."


def test_validate_answers_accepts_strings_and_ints_up_to_the_instruments_top_value():
    assert validate_answers(PCL5, {str(n): "4" for n in range(1, 21)}) == dict.fromkeys(
        range(1, 21), 4
    )
    with pytest.raises(AnswersInvalid):
        validate_answers(PHQ9, {str(n): 4 for n in range(1, 10)})


def test_validate_answers_may_allow_gaps():
    assert validate_answers(PHQ9, {"1": 2}, require_all=False) == {1: 2}
