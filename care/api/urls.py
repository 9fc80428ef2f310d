"""API v1 of care. Mounted at /api/v1/ in the `api` namespace with the notifications app's
endpoints (tracker/urls.py)."""

from django.urls import path

from care.api import messages, outcomes, staff, tokens, treatment, views
from care.api.routing import api

urlpatterns = [
    path("auth/tokens/", api(tokens.TokenListApi), name="token-list"),
    path("auth/tokens/<uuid:public_id>/", api(tokens.TokenDetailApi), name="token-detail"),
    path("me/", api(views.MeApi), name="me"),
    path("me/plan/", api(treatment.MyPlanApi), name="my-plan"),
    path("me/sessions/", api(treatment.MySessionListApi), name="my-session-list"),
    path(
        "me/sessions/<int:session_id>/readiness/",
        api(treatment.MySessionReadinessApi),
        name="my-session-readiness",
    ),
    path(
        "me/sessions/<int:session_id>/reflection/",
        api(treatment.MySessionReflectionApi),
        name="my-session-reflection",
    ),
    path(
        "me/sessions/<int:session_id>/move-request/",
        api(treatment.MySessionMoveRequestApi),
        name="my-session-move-request",
    ),
    path("me/move-requests/", api(treatment.MyMoveRequestListApi), name="my-move-request-list"),
    path("checkins/", api(views.CheckInListApi), name="checkin-list"),
    path("instruments/", api(views.InstrumentListApi), name="instrument-list"),
    path("instruments/<slug:code>/", api(views.InstrumentDetailApi), name="instrument-detail"),
    path("assessments/", api(views.AssessmentListApi), name="assessment-list"),
    path("assessments/<uuid:public_id>/", api(views.AssessmentDetailApi), name="assessment-detail"),
    path("patients/", api(staff.PatientListApi), name="patient-list"),
    path("patients/<uuid:public_id>/trends/", api(staff.PatientTrendsApi), name="patient-trends"),
    path("patients/<uuid:public_id>/fhir/", api(staff.PatientFhirApi), name="patient-fhir"),
    path("patients/<uuid:public_id>/plan/", api(treatment.PatientPlanApi), name="patient-plan"),
    path(
        "patients/<uuid:public_id>/weights/",
        api(treatment.PatientWeightListApi),
        name="patient-weights",
    ),
    path(
        "patients/<uuid:public_id>/move-requests/",
        api(treatment.PatientMoveRequestListApi),
        name="patient-move-requests",
    ),
    path(
        "patients/<uuid:public_id>/sessions/",
        api(staff.PatientSessionBookApi),
        name="patient-session-book",
    ),
    path("sessions/", api(staff.SessionListApi), name="session-list"),
    path("alerts/", api(staff.AlertListApi), name="alert-list"),
    path(
        "alerts/<int:alert_id>/acknowledge/",
        api(staff.AlertAcknowledgeApi),
        name="alert-acknowledge",
    ),
    path("outcomes/", api(outcomes.OutcomesApi), name="outcomes"),
    path("messages/", api(messages.ThreadListApi), name="message-thread-list"),
    path(
        "messages/<uuid:public_id>/",
        api(messages.ThreadDetailApi),
        name="message-thread-detail",
    ),
    path(
        "messages/<uuid:public_id>/replies/",
        api(messages.ThreadReplyApi),
        name="message-thread-reply",
    ),
    path(
        "messages/<uuid:public_id>/notes/",
        api(messages.ThreadNoteApi),
        name="message-thread-note",
    ),
    path(
        "messages/<uuid:public_id>/assign/",
        api(messages.ThreadAssignApi),
        name="message-thread-assign",
    ),
    path(
        "messages/<uuid:public_id>/status/",
        api(messages.ThreadStatusApi),
        name="message-thread-status",
    ),
]
