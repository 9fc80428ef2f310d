"""Access helpers: one per object kind, used by every view and endpoint.

A patient reaches only their own record; clinic staff reach only their clinic's
patients; anything else is a 404, so nobody can learn whether a record exists. A record
asked for by its id and refused is a `RecordNotFound` (a 404 like any other), which the
audit trail records as "denied" (`AuditContextMiddleware`, the API's exception handler).
"""

import uuid

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest

from care.models import (
    Alert,
    Assessment,
    AuditEvent,
    MessageThread,
    Patient,
    SessionMoveRequest,
    StaffMembership,
    TreatmentSession,
    User,
)


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind a login, for annotations only (django-stubs' documented
    way to narrow `request.user` once): LoginRequiredMiddleware sends anyone signed out to the
    sign-in page before such a view runs, so its user is a `User`, never the anonymous one.
    Views marked @login_not_required take a plain `HttpRequest`."""

    user: User


class RecordNotFound(Http404):
    """A record asked for by id that this user may not see, or that does not exist."""

    def __init__(self, what: str, object_id: object) -> None:
        super().__init__()
        self.what = what
        self.object_id = str(object_id)[:64]


def membership_for_user(user) -> StaffMembership | None:
    """The user's staff membership, or None (the lookup is cached on the user)."""
    if not user.is_authenticated:
        return None
    try:
        return user.staff_membership
    except ObjectDoesNotExist:
        return None


def patient_for_user(user) -> Patient | None:
    """The user's own patient profile, or None (the lookup is cached on the user)."""
    if not user.is_authenticated:
        return None
    try:
        return user.patient
    except ObjectDoesNotExist:
        return None


def get_membership_for_user(user) -> StaffMembership:
    """The staff membership of a clinic staff member; 404 for anyone else."""
    membership = membership_for_user(user)
    if membership is None or not user.is_active:
        raise Http404
    return membership


def get_admin_membership_for_user(user) -> StaffMembership:
    """The membership of a clinic admin; 404 for non-staff, 403 for other staff."""
    membership = get_membership_for_user(user)
    if not membership.is_admin:
        raise PermissionDenied
    return membership


def get_staff_member_for_user(user, membership_id: int) -> StaffMembership:
    """A staff member of the admin's own clinic; 404 for other clinics, 403 for non-admins."""
    admin = get_admin_membership_for_user(user)
    try:
        return StaffMembership.objects.select_related("user").get(
            clinic_id=admin.clinic_id, id=membership_id
        )
    except StaffMembership.DoesNotExist as exc:
        raise RecordNotFound(AuditEvent.What.STAFF, membership_id) from exc


def get_own_patient_for_user(user) -> Patient:
    """The signed-in patient's own profile; 404 for anyone who is not a patient."""
    patient = patient_for_user(user)
    if patient is None:
        raise Http404
    return patient


def get_patient_for_user(
    user,
    public_id: uuid.UUID | str,
    *,
    related: tuple[str, ...] = ("user", "clinic", "primary_clinician"),
) -> Patient:
    """The patient with `public_id` if `user` may see them, else 404.

    Staff get the patient with the `related` rows loaded (fewer: a cheaper query). The
    clinic is the staff member's own: when that is loaded already it is reused, not joined.
    """
    own = patient_for_user(user)
    if own is not None:
        if str(own.public_id) != str(public_id):
            raise RecordNotFound(AuditEvent.What.PATIENT, public_id)
        return own
    membership = get_membership_for_user(user)
    clinic = membership.clinic if StaffMembership.clinic.is_cached(membership) else None
    if clinic is not None:
        related = tuple(name for name in related if name != "clinic")
    patients = Patient.objects.select_related(*related) if related else Patient.objects
    try:
        patient = patients.get(clinic_id=membership.clinic_id, public_id=public_id)
    except (Patient.DoesNotExist, ValidationError, ValueError) as exc:
        raise RecordNotFound(AuditEvent.What.PATIENT, public_id) from exc
    if clinic is not None:
        patient.clinic = clinic
    return patient


def get_own_assessment_for_user(user, public_id: uuid.UUID | str) -> Assessment:
    """One of the signed-in patient's own questionnaire results; 404 for anything else."""
    patient = get_own_patient_for_user(user)
    try:
        return Assessment.objects.select_related("patient__clinic").get(
            patient=patient, public_id=public_id
        )
    except (Assessment.DoesNotExist, ValidationError, ValueError) as exc:
        raise RecordNotFound(AuditEvent.What.ASSESSMENT, public_id) from exc


def get_alert_for_user(user, alert_id: int) -> Alert:
    """An alert about a patient of the staff member's clinic; 404 for anyone else."""
    membership = get_membership_for_user(user)
    try:
        return Alert.objects.select_related("patient__user").get(
            id=alert_id, patient__clinic_id=membership.clinic_id
        )
    except (Alert.DoesNotExist, ValueError) as exc:
        raise RecordNotFound(AuditEvent.What.ALERT, alert_id) from exc


def get_session_for_user(user, session_id: int) -> TreatmentSession:
    """A treatment session of a patient of the staff member's clinic; 404 for anyone else."""
    membership = get_membership_for_user(user)
    try:
        return TreatmentSession.objects.select_related("patient__user", "patient__clinic").get(
            id=session_id, patient__clinic_id=membership.clinic_id
        )
    except (TreatmentSession.DoesNotExist, ValueError) as exc:
        raise RecordNotFound(AuditEvent.What.SESSION, session_id) from exc


def get_own_session_for_user(user, session_id: int) -> TreatmentSession:
    """One of the signed-in patient's own treatment sessions; 404 for anything else."""
    patient = get_own_patient_for_user(user)
    try:
        session = TreatmentSession.objects.get(id=session_id, patient=patient)
    except (TreatmentSession.DoesNotExist, ValueError) as exc:
        raise RecordNotFound(AuditEvent.What.SESSION, session_id) from exc
    session.patient = patient
    return session


def get_own_thread_for_user(user, public_id: uuid.UUID | str) -> MessageThread:
    """One of the signed-in patient's own message threads; 404 for anything else."""
    patient = get_own_patient_for_user(user)
    try:
        thread = MessageThread.objects.get(patient=patient, public_id=public_id)
    except (MessageThread.DoesNotExist, ValidationError, ValueError) as exc:
        raise RecordNotFound(AuditEvent.What.MESSAGE_THREAD, public_id) from exc
    thread.patient = patient
    return thread


def get_thread_for_user(user, public_id: uuid.UUID | str) -> MessageThread:
    """A message thread of a patient of the staff member's clinic; 404 for anyone else
    (patients included: they reach their own threads by get_own_thread_for_user)."""
    membership = get_membership_for_user(user)
    try:
        return MessageThread.objects.select_related("patient__user", "assigned_to").get(
            public_id=public_id, patient__clinic_id=membership.clinic_id
        )
    except (MessageThread.DoesNotExist, ValidationError, ValueError) as exc:
        raise RecordNotFound(AuditEvent.What.MESSAGE_THREAD, public_id) from exc


def get_move_request_for_user(user, request_id: int) -> SessionMoveRequest:
    """A request to move a session of a patient of the staff member's clinic; 404 for
    anyone else."""
    membership = get_membership_for_user(user)
    try:
        return SessionMoveRequest.objects.select_related(
            "session__patient__user", "session__patient__clinic", "decided_by"
        ).get(id=request_id, session__patient__clinic_id=membership.clinic_id)
    except (SessionMoveRequest.DoesNotExist, ValueError) as exc:
        raise RecordNotFound(AuditEvent.What.MOVE_REQUEST, request_id) from exc
