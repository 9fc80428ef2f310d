"""Redis restarts, loses its data, or is down while a patient checks in: nothing is lost, and
nothing is sent twice."""

import time

import pytest
import requests
from django.utils import timezone

from care.accounts.tokens import api_token_issue
from care.models import Alert, CheckIn
from notifications.models import Delivery
from tests.factories import PatientFactory
from tests.faults.harness import wait_until
from tests.faults.helpers import assert_exactly_once, dispatch, due_patient, wait_for_status

pytestmark = [pytest.mark.faults, pytest.mark.real_enqueue, pytest.mark.timeout(90)]


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_queued_messages_survive_a_redis_restart(stack, clinic, how):
    """Append-only Redis: a clean shutdown flushes the file; a killed process has already
    written each command to it (only an operating-system crash could lose the last second,
    which the sweeper would make good)."""
    patients = [due_patient(clinic) for _ in range(3)]
    deliveries = dispatch(*patients)  # published, and no worker yet
    assert stack.redis.queued() == 1  # one message with the three ids (send_deliveries)

    getattr(stack.redis, how)()
    stack.redis.start()
    assert stack.redis.queued() == 1
    stack.worker()  # and no beat: the messages themselves are delivered, not the sweeper's

    for delivery in deliveries:
        wait_for_status(delivery, "sent")
    assert_exactly_once(stack.sink, due=3, sent=3)


def test_a_redis_that_lost_its_queue_is_made_good_by_the_sweeper(stack, clinic):
    """As after a restart without persistence, or a failover to an empty replica."""
    patients = [due_patient(clinic) for _ in range(3)]
    deliveries = dispatch(*patients)

    stack.redis.forget_everything()
    stack.worker()
    stack.beat()

    for delivery in deliveries:
        wait_for_status(delivery, "sent")
    assert_exactly_once(stack.sink, due=3, sent=3)


CHECKIN = {
    "mood": 2,
    "anxiety": 8,
    "energy": 2,
    "sleep_hours": "4.5",
    "sleep_quality": 0,
    "has_self_harm_thoughts": True,
}


def test_a_check_in_during_a_redis_outage_is_saved_at_once_and_the_on_call_mailed_after(
    stack, clinic
):
    """Through gunicorn with the production settings: the API's rate limits count in Redis
    too, and are skipped while it is down."""
    clinic.on_call_email = "on-call@clinic.example"
    clinic.save()
    patient = PatientFactory(clinic=clinic, tz="UTC")
    secret = api_token_issue(user=patient.user, name="phone", days=1, now=timezone.now()).secret
    _, url = stack.web()
    stack.worker()
    stack.beat()
    stack.redis.stop()

    started = time.monotonic()
    response = requests.post(
        f"{url}/api/v1/checkins/",
        json=CHECKIN,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    elapsed = time.monotonic() - started
    health = requests.get(f"{url}/health/", timeout=10)

    assert response.status_code == 201, response.text
    assert elapsed < 3
    assert "safety" in response.json()
    assert CheckIn.objects.filter(patient=patient).count() == 1
    assert Alert.objects.filter(patient=patient, kind=Alert.Kind.SAFETY).count() == 1
    assert health.status_code == 503 and health.json()["broker"] == "unavailable"
    time.sleep(2)  # beat cannot publish: nothing moves
    assert not Delivery.objects.exists() and not stack.sink.delivered

    stack.redis.start()
    oncall = wait_until(
        lambda: Delivery.objects.filter(kind=Delivery.Kind.SAFETY_ONCALL).first(),
        timeout=30,
        what="the on-call e-mail to be due",
    )
    oncall = wait_for_status(oncall, "sent")
    assert oncall.to_email == "on-call@clinic.example"
    assert_exactly_once(stack.sink, due=1, sent=1)
