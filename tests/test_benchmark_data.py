"""The dispatch data set: the groups the benchmark relies on, as the dispatcher sees them."""

import pytest
import time_machine
from django.db import connection

from benchmarks.data import DISPATCH_NOW, build_dispatch
from benchmarks.dispatch import FLOOR_SQL
from care.models import Assessment, CheckIn, Patient
from notifications.models import Delivery
from notifications.tasks import dispatch_reminders

pytestmark = pytest.mark.django_db


def test_build_dispatch_makes_one_patient_in_ten_due_now(capsys):
    build_dispatch(patients=40)

    patients = dict(Patient.objects.values_list("user__email", "pk"))
    assert len(patients) == 40
    # Groups 0-4 have not checked in today (7 days each), 5-9 have (8 days).
    assert CheckIn.objects.count() == 20 * 7 + 20 * 8
    assert Assessment.objects.count() == 20  # the maintenance half, not due
    assert Patient.objects.filter(treatment_phase="maintenance").count() == 20
    assert "40/40 patients" in capsys.readouterr().out
    with time_machine.travel(DISPATCH_NOW, tick=False):
        dispatch_reminders()
    reminded = set(Delivery.objects.values_list("kind", "patient_id"))
    due = {patients[f"bench{n:06d}@bench.example"] for n in range(0, 40, 10)}
    assert reminded == {("checkin_due", pk) for pk in due}
    Delivery.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"now": DISPATCH_NOW})
        assert {pk for (pk,) in cursor.fetchall()} == due
