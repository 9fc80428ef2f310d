"""Each questionnaire item has one spelling: two keys naming one item, or a JSON object that
repeats a key, are refused (never the last one silently winning), on the API and the page."""

import uuid

import pytest

from care.domain.instruments import PHQ9
from care.domain.scoring import AnswersInvalid, validate_answers
from care.models import Alert, Assessment, CheckIn
from tests.factories import checkin_body

ASSESSMENTS = "/api/v1/assessments/"
PHQ9_ZEROS = ", ".join(f'"{n}": 0' for n in range(1, 9))


def post_raw(client, url, text):
    return client.post(url, text, content_type="application/json")


def refused_items(answers):
    with pytest.raises(AnswersInvalid) as raised:
        validate_answers(PHQ9, {str(n): 0 for n in range(1, 9)} | answers)
    return raised.value.errors


@pytest.mark.parametrize("key", [" 9", "9 ", "09", "+9", "٩", "item_9"])
def test_validate_answers_refuses_any_spelling_of_an_item_but_the_documented_one(key):
    errors = refused_items({key: 2})

    assert "item_9" in errors
    assert 'write its key as "9"' in errors["item_9"]


@pytest.mark.parametrize("other", [" 9", "09", 9])
def test_validate_answers_refuses_two_keys_naming_the_same_item(other):
    errors = refused_items({"9": 2, other: 0})

    assert errors["item_9"] == "Item 9 is answered more than once; send each item once."


def test_validate_answers_still_takes_int_keys_and_plain_digit_strings():
    assert validate_answers(PHQ9, {n: 1 for n in range(1, 10)}) == dict.fromkeys(range(1, 10), 1)
    assert validate_answers(PHQ9, {str(n): 1 for n in range(1, 10)})[9] == 1


@pytest.mark.django_db
def test_an_api_assessment_with_two_spellings_of_item_9_is_refused_and_raises_nothing(
    patient_client,
):
    response = post_raw(
        patient_client,
        ASSESSMENTS,
        f'{{"instrument": "phq9", "answers": {{{PHQ9_ZEROS}, "9": 2, " 9": 0}}}}',
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert "more than once" in body["errors"]["answers.item_9"][0]
    assert not Assessment.objects.exists() and not Alert.objects.exists()


@pytest.mark.django_db
def test_an_api_assessment_with_a_repeated_json_key_is_a_parse_error_naming_the_item(
    patient_client,
):
    response = post_raw(
        patient_client,
        ASSESSMENTS,
        f'{{"instrument": "phq9", "answers": {{{PHQ9_ZEROS}, "9": 3, "9": 0}}}}',
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "parse_error"
    assert list(body["errors"]) == ["answers.item_9"]
    assert '"9"' in body["detail"]
    assert not Assessment.objects.exists() and not Alert.objects.exists()


@pytest.mark.django_db
def test_any_api_body_repeating_a_key_is_a_parse_error_naming_the_key(patient_client):
    text = '{"mood": 5, "has_self_harm_thoughts": true, "has_self_harm_thoughts": false'
    text += ', "anxiety": 3, "energy": 5, "sleep_hours": "7.0", "sleep_quality": 3}'

    response = post_raw(patient_client, "/api/v1/checkins/", text)

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "parse_error"
    assert list(body["errors"]) == ["has_self_harm_thoughts"]
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
def test_a_repeated_key_deeper_in_a_body_is_named_by_its_path(patient_client):
    text = '{"a": [{"b": {"c": 1, "c": 2}}], "instrument": "phq9"}'

    response = post_raw(patient_client, ASSESSMENTS, text)

    assert response.status_code == 400
    assert response.json()["errors"] == {"a.0.b.c": ['The key "c" appears more than once.']}


@pytest.mark.django_db
def test_a_body_without_repeats_still_parses(patient_client):
    response = patient_client.post(
        "/api/v1/checkins/", checkin_body(), content_type="application/json"
    )

    assert response.status_code == 201


@pytest.mark.django_db
def test_a_null_item_is_reported_under_its_item_name(patient_client):
    response = post_raw(
        patient_client,
        ASSESSMENTS,
        f'{{"instrument": "phq9", "answers": {{{PHQ9_ZEROS}, "9": null}}}}',
    )

    errors = response.json()["errors"]
    assert response.status_code == 400
    assert errors == {"answers.item_9": ["Item 9: please choose an answer."]}


@pytest.mark.django_db
def test_a_questionnaire_page_post_answering_an_item_twice_is_refused(patient_client):
    data = {"client_id": str(uuid.uuid4())} | {f"item_{n}": "0" for n in range(1, 9)}
    data["item_9"] = ["2", "0"]

    response = patient_client.post("/me/questionnaires/phq9/", data)

    assert response.status_code == 200
    assert response.context["form"].errors["item_9"] == [
        "Item 9 is answered more than once; send each item once."
    ]
    assert not Assessment.objects.exists() and not Alert.objects.exists()


@pytest.mark.django_db
def test_a_checkin_page_post_giving_the_self_harm_answer_twice_is_refused(patient_client):
    data = {
        "client_id": str(uuid.uuid4()),
        "mood": "6",
        "anxiety": "3",
        "energy": "5",
        "sleep_hours": "7.5",
        "sleep_quality": "3",
        "has_self_harm_thoughts": ["yes", "no"],
    }

    response = patient_client.post("/me/checkin/", data)

    assert response.status_code == 200
    assert "more than once" in response.context["form"].errors["has_self_harm_thoughts"][0]
    assert not CheckIn.objects.exists()
