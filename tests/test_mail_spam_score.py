"""Every kind of e-mail the application sends scores below 1.0 in SpamAssassin (its rules as
shipped, local tests only: no network, no Bayes), as the SMTP mailer would send it.

Skipped when `spamassassin` is not installed (apt-get install spamassassin), except under
CI=true, where it must run.
"""

import email.policy
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, time, timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.test import Client, RequestFactory

from care.accounts.services import invitation_create, invitation_send
from care.models import Alert, TreatmentSession
from care.records.services import checkin_submit
from notifications.dispatch.alerts import digests_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import delivery_send
from tests.care.test_account_emails import ALLAUTH_EMAILS, send_allauth_mail
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 5, 11, 30, tzinfo=UTC)  # 07:30 in New York: the digests' time
LIMIT = 1.0
# SpamAssassin's __END_FUTURE_EMAILS body rule (72_active.cf, SpamAssassin 4.0): "stop these
# e-mails" and the like, which bulk mail uses. Checked without SpamAssassin too.
END_FUTURE_EMAILS = re.compile(
    r"\b(?:end|stop(?! receiving these (?:alerts|emails))|cease|discontinue|removed?|"
    r"(?:do(?! not wish to receive [\w\s]{0,20}emails)|would|you(?:'d)?) "
    r"(?:not (?:wish|want|like|desire)|(?:prefer|wish|want|like|desire) not) to|"
    r"exclude yourself|fore?go)[- ](?:get |receiv(?:ing|e) |or |(?:a-z{1,30} ){0,4}from )?"
    r"(?:these|our|(?:any )?(?:future|further)) "
    r"(?:(?:e|ad)?-?m(?:ail(?:ing)?|es+[age]{3})|alert|PSA|marketing|notice)"
    r"[- ]?(?:ad|update)?s?\b",
    re.IGNORECASE,
)


@pytest.fixture
def production_mail(settings):
    settings.SITE_URL = "https://care.example.org"
    settings.DEFAULT_FROM_EMAIL = "care-team@care.example.org"


@pytest.fixture
def every_email(production_mail, clinic, clinician, mailoutbox):
    """{kind: message} for every kind of e-mail the application sends."""
    clinic.email_sender_name = "Riverside Team"
    clinic.on_call_email = "on-call@clinic.example"
    clinic.save()
    patient = PatientFactory(clinic=clinic, tz="America/New_York", preferred_name="Jo")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(19))
    checkin_submit(
        patient=patient,
        client_id=None,
        now=NOW - timedelta(days=1),
        values={
            "mood": 2,
            "anxiety": 8,
            "energy": 2,
            "sleep_hours": 4,
            "sleep_quality": 1,
            "side_effects": [],
            "has_self_harm_thoughts": True,
            "note": "",
        },
    )
    alert = Alert.objects.get(patient=patient, kind="safety")
    session = TreatmentSession.objects.create(
        patient=patient, route="iv", scheduled_at=NOW + timedelta(days=1, hours=3)
    )
    held = TreatmentSession.objects.create(
        patient=patient, route="iv", scheduled_at=NOW - timedelta(days=2), status="completed"
    )
    Delivery.objects.all().delete()  # the on-call e-mail queued by the answer; made below
    messages = {}

    def collect(kind):
        (message,) = mailoutbox
        messages[kind] = message
        mailoutbox.clear()

    evening_before = datetime(2026, 5, 5, 23, 0, tzinfo=UTC)
    subjects = {
        "checkin_due": (f"patient:{patient.pk}", NOW),
        "session_tomorrow": (f"session:{session.pk}:2026-05-06", evening_before),
        "questionnaire_due": (
            f"questionnaire:session:{session.pk}:2026-05-06",
            evening_before - timedelta(days=1),
        ),
        "safety_oncall": (f"alert:{alert.pk}:oncall", NOW),
        "safety_escalation": (f"alert:{alert.pk}:user:{clinician.pk}", NOW),
        "integration_prompt": (f"integration:session:{held.pk}", NOW),
    }
    for kind, (subject_key, due_at) in subjects.items():
        staff = kind.startswith("safety")
        delivery = Delivery.objects.create(
            kind=kind,
            subject_key=subject_key,
            due_at=due_at,
            patient=patient,
            alert=alert if staff else None,
            session=(
                session
                if kind in ("session_tomorrow", "questionnaire_due")
                else held
                if kind == "integration_prompt"
                else None
            ),
            recipient=clinician if kind == "safety_escalation" else None,
            to_email=clinician.email if staff else patient.user.email,
        )
        assert delivery_send(delivery_id=delivery.id, now=due_at) == "sent", kind
        collect(kind)
    digests_dispatch(now=NOW)
    digest = Delivery.objects.filter(kind="digest", to_email=clinician.email).get()
    assert delivery_send(delivery_id=digest.id, now=NOW) == "sent"
    collect("digest")

    invitation = invitation_create(user=patient.user, created_by=None, now=NOW)
    invitation_send(invitation_id=invitation.id, now=NOW)
    collect("invitation")
    Client().post("/accounts/password/reset/", {"email": clinician.email})
    collect("password reset")
    address = EmailAddress.objects.create(user=clinician, email="second@example.org")
    request = RequestFactory().get("/")
    with allauth_context.request_context(request):
        address.send_confirmation(request)
    collect("e-mail confirmation")
    for prefix in ALLAUTH_EMAILS:
        send_allauth_mail(prefix, clinician.email)
        collect(prefix)
    return messages


def spam_scores(messages: dict, spamassassin: str) -> dict[str, tuple[float, str]]:
    """{kind: (score, rules)} from one SpamAssassin run over the messages as an mbox, each
    found again in its output by its Message-ID."""
    mbox, kinds = b"", {}
    for kind, message in messages.items():
        parsed = message.message(policy=email.policy.SMTP)
        kinds[parsed["Message-ID"]] = kind
        wire = parsed.as_bytes().replace(b"\r\n", b"\n")
        wire = re.sub(rb"^(>*From )", rb">\1", wire, flags=re.MULTILINE)
        mbox += b"From care-team@care.example.org Tue May  5 11:30:00 2026\n" + wire + b"\n\n"
    result = subprocess.run(
        [spamassassin, "--local", "--nocreate-prefs", "--cf=use_bayes 0", "--mbox"],
        input=mbox,
        capture_output=True,
        timeout=120,
        check=True,
    )
    scores = {}
    for chunk in re.split(rb"^From .*\n", result.stdout, flags=re.MULTILINE):
        if not chunk.strip():
            continue
        checked = email.message_from_bytes(chunk, policy=email.policy.default)
        status = " ".join(str(checked["X-Spam-Status"]).split())
        score, rules = re.search(r"score=(-?[\d.]+) .*tests=(.*?) autolearn=", status).groups()
        scores[kinds[checked["Message-ID"]]] = (float(score), rules.replace(" ", ""))
    assert set(scores) == set(messages), result.stderr.decode()
    return scores


@pytest.fixture
def spamassassin() -> str:
    path = shutil.which("spamassassin")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("spamassassin is missing in CI (apt-get install spamassassin)")
        pytest.skip("spamassassin is not installed (apt-get install spamassassin)")
    return path


def test_every_kind_of_email_scores_below_one_in_spamassassin(every_email, spamassassin):
    scores = spam_scores(every_email, spamassassin)

    too_high = {kind: s for kind, s in scores.items() if s[0] >= LIMIT}
    assert not too_high, too_high
    assert {"checkin_due", "digest", "invitation", "password reset"} <= set(scores)


def test_no_email_asks_to_stop_future_emails_in_spammy_words(every_email):
    for kind, message in every_email.items():
        for text in (message.body, message.alternatives[0].content):
            assert not END_FUTURE_EMAILS.search(text), (kind, END_FUTURE_EMAILS.search(text))
