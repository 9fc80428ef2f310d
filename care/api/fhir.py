"""One patient's questionnaires as a FHIR R4 Bundle: plain, JSON-ready dicts.

Pure: it reads the objects it is given (and `patient.user`), writes nothing and imports no
FHIR library (`fhir.resources` is a dev dependency, used by the tests to validate the
output). Shapes follow docs/clinical.md §7:

- A "collection" Bundle: the Patient, then per assessment (oldest first) one
  QuestionnaireResponse with the answers and one Observation with the total score.
- Every entry has `fullUrl` "urn:uuid:<id>" and every reference is that urn, which
  resolves inside a collection Bundle without a server. Ids are stable: the Patient's and
  the QuestionnaireResponse's are the records' public ids; the Observation's is a uuid5
  derived from the assessment's public id. The same records always give the same Bundle.
- QuestionnaireResponse: `questionnaire` is the LOINC canonical of the panel, linkIds are
  "/<item LOINC>" and answers are LOINC answer codes (LA...), as in the US Core PHQ-9
  example. The patient filled it in, so `author` and `source` are the Patient too.
- Observation: category "survey" and the LOINC total-score code, as the US Core screening
  assessment profile asks (no profile is claimed in `meta`). The total is a
  `valueQuantity` in the UCUM unit "{score}" (LOINC's example unit for these codes),
  which keeps it numeric for trending; US Core's example `valueString` does not.
  `interpretation` is the band the app recorded when the questionnaire was scored,
  given as text only: HL7's interpretation codes (high/low/normal) do not say
  "moderately severe".
- Superseded assessments (a correction replaced them) are left out.
- Communication: one per message between the patient and their care team (the patient's
  messages and the care team's replies), oldest first: `status` completed, `subject` the
  Patient, `topic` the thread's subject as text, `sent`, `payload` the text, `priority`
  "urgent" for a message the patient marked urgent (else "routine"), `inResponseTo` the
  message before it in the thread. The patient is sender or recipient by reference; the
  care team, which has no resource here, by display text (the author's name, "Care team").
  The id is the message's opaque id (`care.domain.messages.message_public_id`), the one the
  API gives. Staff notes are left out: a note is the care team's internal record about the
  thread, not a communication with the patient, and a Bundle that leaves the clinic (to
  another system, or to the patient) must not carry it.
- CarePlan: one per version of the treatment plan, oldest first: the current one `active`,
  each earlier one `revoked` with its `period` ended when the next began; each later
  version `replaces` the one before. `intent` plan, `author` the prescriber and
  `contributor` who made the version (display text: staff have no resource here),
  `activity` the induction (an Appointment kind, `scheduledTiming` count over a bounds
  duration), the maintenance (every N weeks, or "as needed by signal" without a timing) and
  the questionnaires (a Task kind, every N days); the goals in the patient's words, the
  reason for a change and the alert it answered as `note`. The target dose is in the
  activities' `description` (CarePlan has no per-session dose element). The id is a uuid5
  of the patient's id and the version number.
- Observation of body weight: LOINC 29463-7 "Body weight", category `vital-signs`,
  `effectiveDateTime` the day it was measured (a date), `valueQuantity` in UCUM `kg` (one
  decimal, as stored); a weight typed in lb says so in `note`. Id: uuid5 of the patient's
  id and the row.
- Appointment: one per treatment session, oldest first: `status` booked (still booked,
  whether or not its day has passed), fulfilled (recorded as held), cancelled or noshow;
  `start` the booked time, `end` start plus the clinic's `session_minutes` (the chair time),
  `serviceType` the route as text, `participant` the Patient (accepted). Id: uuid5 of the
  patient's id and the session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from care.domain.instruments import INSTRUMENTS, AnswerOption, Instrument, Item
from care.domain.messages import message_public_id
from care.domain.scoring import band_for_code, instrument_bands

if TYPE_CHECKING:
    from care.models import (
        Assessment,
        BodyWeight,
        Message,
        Patient,
        TreatmentPlanVersion,
        TreatmentSession,
        User,
    )

JSON = dict[str, Any]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# Identifier system meaning "the value is a URI" (here urn:uuid:<public id>).
URI_SYSTEM = "urn:ietf:rfc:3986"
SCORE_UNIT = "{score}"


def patient_bundle(
    *,
    patient: Patient,
    assessments: Iterable[Assessment],
    pcl5_cutoff: int,
    now: datetime,
    messages: Iterable[Message] = (),
    plan_versions: Iterable[TreatmentPlanVersion] = (),
    weights: Iterable[BodyWeight] = (),
    sessions: Iterable[TreatmentSession] = (),
    session_minutes: int = 120,
) -> JSON:
    """A FHIR R4 collection Bundle of `patient`, their current questionnaire results and
    their messages with the care team.

    `assessments` are the patient's (e.g. `patient.assessments.all()`); any of them that
    another one in the list supersedes is left out. `pcl5_cutoff` is the clinic's
    probable-PTSD cut-off, used for the PCL-5 reference range. `now` (aware) is the
    Bundle's timestamp. `messages` are the patient's messages with their thread and author
    loaded; staff notes among them are left out. `plan_versions` (with prescriber and
    author loaded), `weights` and `sessions` are the patient's; `session_minutes` is the
    clinic's chair time of a session, each Appointment's length.
    """
    patient_url = _urn(patient.public_id)
    entries = [_entry(patient_url, patient_resource(patient))]
    for assessment in current_assessments(assessments):
        instrument = INSTRUMENTS[assessment.instrument]
        response_url = _urn(assessment.public_id)
        entries.append(
            _entry(
                response_url,
                questionnaire_response(assessment, instrument, patient_ref=patient_url),
            )
        )
        if assessment.total is not None:
            entries.append(
                _entry(
                    _urn(total_observation_id(assessment)),
                    total_observation(
                        assessment,
                        instrument,
                        patient_ref=patient_url,
                        response_ref=response_url,
                        pcl5_cutoff=pcl5_cutoff,
                    ),
                )
            )
    entries += [
        _entry(_urn(resource["id"]), resource)
        for resource in communications(messages, patient_ref=patient_url)
    ]
    entries += [
        _entry(_urn(resource["id"]), resource)
        for resource in [
            *care_plans(plan_versions, patient=patient, patient_ref=patient_url),
            *(
                weight_observation(weight, patient=patient, patient_ref=patient_url)
                for weight in sorted(weights, key=lambda w: (w.measured_on, w.pk))
            ),
            *(
                appointment(
                    session, patient=patient, patient_ref=patient_url, minutes=session_minutes
                )
                for session in sorted(sessions, key=lambda s: (s.scheduled_at, s.pk))
            ),
        ]
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(now),
        "entry": entries,
    }


def current_assessments(assessments: Iterable[Assessment]) -> list[Assessment]:
    """Those not superseded by another in the list, oldest first (then by public id)."""
    rows = list(assessments)
    replaced = {a.supersedes_id for a in rows if a.supersedes_id is not None}
    return sorted(
        (a for a in rows if a.pk not in replaced),
        key=lambda a: (a.completed_at, str(a.public_id)),
    )


def total_observation_id(assessment: Assessment) -> uuid.UUID:
    """The total-score Observation's id: the same for the same assessment, every time."""
    return uuid.uuid5(_uuid(assessment.public_id), "total")


def patient_resource(patient: Patient) -> JSON:
    names: list[JSON] = []
    if patient.user.full_name:
        names.append({"text": patient.user.full_name})
    if patient.preferred_name:
        # "usual": the name the person is known by (FHIR HumanName.use).
        names.append({"use": "usual", "given": [patient.preferred_name]})
    resource: JSON = {
        "resourceType": "Patient",
        "id": str(patient.public_id),
        "identifier": [_identifier(patient.public_id)],
    }
    if names:
        resource["name"] = names
    if patient.date_of_birth:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


def questionnaire_response(
    assessment: Assessment, instrument: Instrument, *, patient_ref: str
) -> JSON:
    """The answers as given: one item per answered question, the difficulty, the total."""
    answers = assessment.answers or {}
    items = [
        _answer_item(item, instrument.options, answers[str(item.number)])
        for item in instrument.items
        if answers.get(str(item.number)) is not None
    ]
    if instrument.difficulty is not None and assessment.difficulty is not None:
        items.append(
            _answer_item(
                instrument.difficulty, instrument.difficulty_options, assessment.difficulty
            )
        )
    if assessment.total is not None:
        items.append(
            {
                "linkId": f"/{instrument.total_loinc}",
                "text": f"{instrument.name} total score",
                "answer": [{"valueInteger": assessment.total}],
            }
        )
    patient = _reference(patient_ref, "Patient")
    resource: JSON = {
        "resourceType": "QuestionnaireResponse",
        "id": str(assessment.public_id),
        "identifier": _identifier(assessment.public_id),
        "questionnaire": f"{LOINC}/q/{instrument.panel_loinc}",
        "status": "completed",
        "subject": patient,
        "authored": _instant(assessment.completed_at),
        # Self-report: the patient wrote the answers and is their source.
        "author": patient,
        "source": patient,
    }
    if items:
        resource["item"] = items
    return resource


def total_observation(
    assessment: Assessment,
    instrument: Instrument,
    *,
    patient_ref: str,
    response_ref: str,
    pcl5_cutoff: int,
) -> JSON:
    """The total score, for trends: a number in "{score}", derived from the answers."""
    if assessment.total is None:
        raise ValueError("An assessment without a total has no total-score Observation.")
    observation_id = total_observation_id(assessment)
    patient = _reference(patient_ref, "Patient")
    resource: JSON = {
        "resourceType": "Observation",
        "id": str(observation_id),
        "identifier": [_identifier(observation_id)],
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "code": {
            # No `display`: LOINC's long names are not copied here; `text` names it.
            "coding": [{"system": LOINC, "code": instrument.total_loinc}],
            "text": f"{instrument.name} total score",
        },
        "subject": patient,
        "effectiveDateTime": _instant(assessment.completed_at),
        "performer": [patient],
        "valueQuantity": _score(assessment.total),
    }
    band = band_for_code(instrument, assessment.band) if assessment.band else None
    if band is not None:
        resource["interpretation"] = [{"text": band.label}]
    reference_range = _reference_range(instrument, assessment, pcl5_cutoff=pcl5_cutoff)
    if reference_range is not None:
        resource["referenceRange"] = [reference_range]
    resource["derivedFrom"] = [_reference(response_ref, "QuestionnaireResponse")]
    return resource


def communications(messages: Iterable[Message], *, patient_ref: str) -> list[JSON]:
    """The Communications of the messages between the patient and the care team, oldest
    first (staff notes left out); each answers the message before it in its thread."""
    shown = sorted(
        (m for m in messages if not m.is_staff_note),
        key=lambda m: (m.created_at, m.pk),
    )
    previous: dict[int, str] = {}  # thread -> the urn of its latest message so far
    resources = []
    for message in shown:
        message_id = message_public_id(message.thread.public_id, message.pk)
        resource = communication(message, message_id=message_id, patient_ref=patient_ref)
        if message.thread_id in previous:
            resource["inResponseTo"] = [_reference(previous[message.thread_id], "Communication")]
        previous[message.thread_id] = _urn(message_id)
        resources.append(resource)
    return resources


def communication(message: Message, *, message_id: uuid.UUID, patient_ref: str) -> JSON:
    """One message as a completed Communication about (and with) the patient."""
    if message.is_staff_note:
        raise ValueError("A staff note is not a communication with the patient.")
    patient = _reference(patient_ref, "Patient")
    author = message.author.full_name if message.author is not None else ""
    care_team: JSON = {"display": author or "Care team"}
    return {
        "resourceType": "Communication",
        "id": str(message_id),
        "identifier": [_identifier(message_id)],
        "status": "completed",
        "priority": "urgent" if message.is_urgent else "routine",
        "subject": patient,
        "topic": {"text": message.thread.subject},
        "sent": _instant(message.created_at),
        "sender": patient if message.from_patient else care_team,
        "recipient": [{"display": "Care team"} if message.from_patient else patient],
        "payload": [{"contentString": message.body}],
    }


BODY_WEIGHT_LOINC = "29463-7"
ACTIVITY_STOPPED = "stopped"
ACTIVITY_UNKNOWN = "unknown"
# A session's status as an Appointment's (R4 AppointmentStatus).
APPOINTMENT_STATUS = {
    "scheduled": "booked",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}


def record_id(patient: Patient, kind: str, key: object) -> uuid.UUID:
    """A stable id for a record without a public id of its own: the same record of the same
    patient gives the same id in every export."""
    return uuid.uuid5(_uuid(patient.public_id), f"{kind}/{key}")


def _person(user: User | None) -> JSON:
    return {"display": (user.full_name or str(user)) if user is not None else "Care team"}


def _weeks(value: int) -> JSON:
    return {"value": value, "unit": "weeks" if value != 1 else "week", "system": UCUM, "code": "wk"}


def _plan_dose(version: TreatmentPlanVersion) -> str:
    if version.target_dose_mg is not None:
        return f"{version.target_dose_mg} mg"
    if version.target_dose_mg_per_kg is not None:
        return f"{version.target_dose_mg_per_kg} mg/kg"
    return ""


def _plan_activities(version: TreatmentPlanVersion, *, stopped: bool) -> list[JSON]:
    status = ACTIVITY_STOPPED if stopped else ACTIVITY_UNKNOWN
    route = str(version.get_route_display())
    product = {"text": "Esketamine" if version.route == "intranasal" else "Ketamine"}
    dose = _plan_dose(version)
    per_session = f", target dose {dose} a session" if dose else ""
    sessions, weeks = version.induction_sessions, version.induction_weeks
    induction: JSON = {
        "kind": "Appointment",
        "code": {"text": "Induction"},
        "status": status,
        "description": (
            f"Induction: {sessions} {route} session{'s' if sessions != 1 else ''} over "
            f"{weeks} week{'s' if weeks != 1 else ''}{per_session}"
        ),
        "scheduledTiming": {"repeat": {"count": sessions, "boundsDuration": _weeks(weeks)}},
        "productCodeableConcept": product,
    }
    maintenance: JSON = {
        "kind": "Appointment",
        "code": {"text": "Maintenance"},
        "status": status,
        "productCodeableConcept": product,
    }
    every = version.maintenance_every_weeks
    if version.maintenance == "every_n_weeks" and every:
        maintenance["description"] = (
            f"Maintenance: a {route} session every {every} week{'s' if every != 1 else ''}"
            f"{per_session}"
        )
        maintenance["scheduledTiming"] = {
            "repeat": {"frequency": 1, "period": every, "periodUnit": "wk"}
        }
    else:
        maintenance["description"] = (
            f"Maintenance: a {route} session as needed by signal (a booster alert){per_session}"
        )
    activities = [{"detail": induction}, {"detail": maintenance}]
    if version.questionnaires:
        days = version.questionnaire_every_days
        names = ", ".join(INSTRUMENTS[c].name for c in version.questionnaires if c in INSTRUMENTS)
        activities.append(
            {
                "detail": {
                    "kind": "Task",
                    "code": {"text": "Questionnaires"},
                    "status": status,
                    "description": f"Questionnaires: {names}, every {days} days",
                    "scheduledTiming": {
                        "repeat": {"frequency": 1, "period": days, "periodUnit": "d"}
                    },
                }
            }
        )
    return activities


def care_plans(
    versions: Iterable[TreatmentPlanVersion], *, patient: Patient, patient_ref: str
) -> list[JSON]:
    """One CarePlan per plan version, oldest first: the latest `active`, the earlier ones
    `revoked` (their period ended by the next), each later one `replaces` the one before."""
    ordered = sorted(versions, key=lambda v: v.number)
    resources: list[JSON] = []
    for index, version in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        plan_id = record_id(patient, "care-plan", version.number)
        period: JSON = {"start": _instant(version.created_at)}
        if following is not None:
            period["end"] = _instant(following.created_at)
        notes: list[JSON] = []
        if version.goals:
            notes.append({"text": f"Goals, in the patient's words: {version.goals}"})
        if version.reason_code != "first":
            why = str(version.get_reason_code_display())
            notes.append({"text": f"Why the plan changed: {why}. {version.reason}".strip()})
        if version.answered_alert_id is not None:
            notes.append({"text": f"Answers alert {version.answered_alert_id}."})
        resource: JSON = {
            "resourceType": "CarePlan",
            "id": str(plan_id),
            "identifier": [_identifier(plan_id)],
            "status": "active" if following is None else "revoked",
            "intent": "plan",
            "title": f"Treatment plan, version {version.number}",
            "description": (
                f"{version.get_route_display()}: induction {version.induction_sessions} "
                f"sessions over {version.induction_weeks} weeks, then "
                f"{version.get_maintenance_display().lower()}"
            ),
            "subject": _reference(patient_ref, "Patient"),
            "period": period,
            "created": _instant(version.created_at),
            "author": _person(version.prescriber),
            "contributor": [_person(version.created_by)],
            "activity": _plan_activities(version, stopped=following is not None),
        }
        if resources:
            resource["replaces"] = [_reference(_urn(resources[-1]["id"]), "CarePlan")]
        if notes:
            resource["note"] = notes
        resources.append(resource)
    return resources


def weight_observation(weight: BodyWeight, *, patient: Patient, patient_ref: str) -> JSON:
    """A body weight as a vital-signs Observation (LOINC 29463-7, UCUM kg)."""
    observation_id = record_id(patient, "body-weight", weight.pk)
    resource: JSON = {
        "resourceType": "Observation",
        "id": str(observation_id),
        "identifier": [_identifier(observation_id)],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": OBSERVATION_CATEGORY,
                        "code": "vital-signs",
                        "display": "Vital Signs",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC, "code": BODY_WEIGHT_LOINC, "display": "Body weight"}],
            "text": "Body weight",
        },
        "subject": _reference(patient_ref, "Patient"),
        "effectiveDateTime": weight.measured_on.isoformat(),
        "valueQuantity": {
            "value": float(weight.weight_kg),
            "unit": "kg",
            "system": UCUM,
            "code": "kg",
        },
    }
    if weight.entered_unit != "kg":
        resource["note"] = [{"text": f"Entered as {weight.entered_value} {weight.entered_unit}"}]
    return resource


def appointment(
    session: TreatmentSession, *, patient: Patient, patient_ref: str, minutes: int
) -> JSON:
    """A treatment session as an Appointment of the patient, `minutes` long."""
    appointment_id = record_id(patient, "appointment", session.pk)
    return {
        "resourceType": "Appointment",
        "id": str(appointment_id),
        "identifier": [_identifier(appointment_id)],
        "status": APPOINTMENT_STATUS[session.status],
        "serviceType": [{"text": str(session.get_route_display())}],
        "start": _instant(session.scheduled_at),
        "end": _instant(session.scheduled_at + timedelta(minutes=minutes)),
        "minutesDuration": minutes,
        "created": _instant(session.created_at),
        "participant": [{"actor": _reference(patient_ref, "Patient"), "status": "accepted"}],
    }


def _reference_range(
    instrument: Instrument, assessment: Assessment, *, pcl5_cutoff: int
) -> JSON | None:
    """The instrument's lowest band as the "normal" range, e.g. PHQ-9 0-4 "Minimal".

    A reference range reads as "normal", so it is the no-concern band, never the band of
    this result (a range of 10-14 beside a 12 would look normal). PCL-5's depends on the
    clinic's cut-off; bands are not stored with the cut-off used, so when the recorded band
    disagrees with today's range (the cut-off changed since) the range is left out.
    """
    bands = instrument_bands(instrument, pcl5_cutoff=pcl5_cutoff)
    if not bands or assessment.total is None:
        return None
    normal = bands[0]
    if assessment.band and (normal.low <= assessment.total <= normal.high) != (
        assessment.band == normal.code
    ):
        return None
    return {
        "low": _score(normal.low),
        "high": _score(normal.high),
        "text": normal.label,
    }


def _answer_item(item: Item, options: tuple[AnswerOption, ...], value: int) -> JSON:
    option = next((o for o in options if o.value == value), None)
    if option is None:
        raise ValueError(f"{value!r} is not an answer to item {item.number}.")
    if option.loinc:
        answer: JSON = {
            "valueCoding": {"system": LOINC, "code": option.loinc, "display": option.label}
        }
    else:
        # No LOINC answer code in instruments.py (PCL-5): the item's numeric value.
        answer = {"valueInteger": option.value}
    return {
        # PCL-5 items have no LOINC code in instruments.py: a local linkId, "item-<n>".
        "linkId": f"/{item.loinc}" if item.loinc else f"item-{item.number}",
        "text": item.text,
        "answer": [answer],
    }


def _score(value: int) -> JSON:
    return {"value": value, "unit": SCORE_UNIT, "system": UCUM, "code": SCORE_UNIT}


def _entry(full_url: str, resource: JSON) -> JSON:
    return {"fullUrl": full_url, "resource": resource}


def _reference(url: str, resource_type: str) -> JSON:
    return {"reference": url, "type": resource_type}


def _identifier(value: uuid.UUID | str) -> JSON:
    return {"system": URI_SYSTEM, "value": _urn(value)}


def _urn(value: uuid.UUID | str) -> str:
    return f"urn:uuid:{_uuid(value)}"


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _instant(moment: datetime) -> str:
    """An aware time as FHIR instant/dateTime text, in UTC ("...Z")."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("FHIR times need a time zone; got a naive datetime.")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
