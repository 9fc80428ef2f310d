"""Instrument texts and codes match the clinical reference exactly (fixture typed from it)."""

import json
from pathlib import Path

import pytest

from care.domain.instruments import INSTRUMENTS, PCL5, PHQ9

FIXTURE = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "instruments_reference.json").read_text()
)


@pytest.mark.parametrize("code", ["phq9", "gad7", "pcl5"])
def test_item_texts_numbers_and_codes_match_the_reference(code):
    instrument, expected = INSTRUMENTS[code], FIXTURE[code]

    assert [(i.number, i.text) for i in instrument.items] == [
        (row["number"], row["text"]) for row in expected["items"]
    ]
    if code != "pcl5":
        assert [i.loinc for i in instrument.items] == [row["loinc"] for row in expected["items"]]
    else:
        assert [i.cluster for i in instrument.items] == [
            row["cluster"] for row in expected["items"]
        ]


@pytest.mark.parametrize("code", ["phq9", "gad7", "pcl5"])
def test_stems_options_and_panel_codes_match_the_reference(code):
    instrument, expected = INSTRUMENTS[code], FIXTURE[code]

    assert instrument.stem == expected["stem"]
    assert [[o.label, o.value, o.loinc] for o in instrument.options] == expected["options"]
    assert (instrument.total_loinc, instrument.panel_loinc) == (
        expected["total_loinc"],
        expected["panel_loinc"],
    )
    if "bands" in expected:
        assert [[b.low, b.high] for b in instrument.bands] == expected["bands"]


def test_gad7_zero_option_is_not_at_all_not_not_at_all_sure():
    assert INSTRUMENTS["gad7"].options[0].label == "Not at all"


def test_phq9_difficulty_answer_codes_keep_loincs_order():
    expected = FIXTURE["phq9"]["difficulty"]

    assert PHQ9.difficulty.text == expected["text"]
    assert PHQ9.difficulty.loinc == expected["loinc"]
    assert [[o.label, o.loinc] for o in PHQ9.difficulty_options] == expected["options"]
    assert [o.loinc for o in PHQ9.difficulty_options][2:] == ["LA6575-0", "LA6574-3"]


def test_pcl5_instructions_are_the_web_wording_of_the_reference():
    assert PCL5.instructions == FIXTURE["pcl5"]["instructions"]


def test_every_instrument_carries_its_attribution():
    assert "Pfizer" in INSTRUMENTS["phq9"].attribution
    assert "Pfizer" in INSTRUMENTS["gad7"].attribution
    assert "National Center for PTSD" in PCL5.attribution


def test_maximum_totals():
    assert [INSTRUMENTS[c].max_total for c in ("phq9", "gad7", "pcl5")] == [27, 21, 80]
