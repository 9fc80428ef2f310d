"""Each patient's outcome facts, kept so the outcomes page reads one small row per patient.

The outcomes page sums its cohort's figures (`care.domain.outcomes`). Worked out from the
rows on every request, that cost grows with every score, check-in and session the clinic
holds. These tables keep, per patient, what the figures of a period that ends after the
patient's last questionnaire and held session need: the first held session (and the routes
held); the days of their check-ins, held sessions and questionnaires (for adherence); and
per questionnaire the baseline, the latest score at each time point and in each week, the
week of the first response and of the last score. `care.outcomes.sql` works them out from
the rows, as the page does for the patients whose stored facts do not stand.

Kept in step by database triggers (migrations 0024 and 0025): a write to a patient's
questionnaires, sessions or check-ins, to their time zone, conditions or chosen
questionnaires, to what the page's filters select them by (clinic, primary clinician,
phase) or to their enrolment, and the patient's deletion, mark the patient in
`OutcomeFactsStale` in the writing transaction, whoever writes. The page never reads a
marked patient's stored facts (it works theirs out from the rows);
`care.outcomes.services.outcome_facts_refresh` (every minute) stores them again and removes
the mark. Nothing here is not derived from the patient's own rows.

The questionnaire facts are also kept summed per group of patients the filters select
(`OutcomeFactsGroup`: clinic, primary clinician, phase, conditions and routes held), moved
by the refresh in the transaction that stores a patient's facts: the page adds up a few
groups instead of every patient, takes back what the groups hold of marked patients and
works those out as before (`care.outcomes.sql`).
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from care.domain.outcomes import LAST_WEEK, TIME_POINTS


class DayBitsField(models.Field):
    """Days as a PostgreSQL `bit varying`: bit i set for the day `origin` + i (a string of
    0s and 1s in Python); counted over a range of days by `outcome_days` (migration 0024)."""

    def db_type(self, connection) -> str:
        return "bit varying"


class OutcomeFactsStale(models.Model):
    """A patient whose stored outcome facts may be out of date (marked by the triggers).

    No foreign key: a trigger may mark a patient whose rows are being deleted with them.
    """

    patient_id = models.BigIntegerField(primary_key=True)
    # Bumped by each mark, so a marking transaction holds the row until it commits.
    marks = models.IntegerField(db_default=1)

    class Meta:
        db_table = "care_outcomefacts_stale"

    def __str__(self) -> str:
        return f"outcome facts of patient {self.patient_id} stale"


class PatientOutcomeFacts(models.Model):
    """A patient with a held session: the first one, every route held, when the patient's
    last questionnaire or held session was, and the days adherence counts."""

    # Left when the patient is deleted (the deletion marks them): the refresh takes the
    # facts out of their group's sums, then removes them.
    patient = models.OneToOneField(
        "care.Patient",
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="outcome_facts",
        db_constraint=False,  # written beside the patient's own writes; see the module
    )
    # The group whose sums hold this patient's questionnaire facts (None: in none), and the
    # enrolment it was stored with.
    group = models.ForeignKey(
        "care.OutcomeFactsGroup",
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,  # led by the group: the indexes below
    )
    enrolled_at = models.DateTimeField(null=True)
    # Adherence over the windows of the default period (`OutcomeFactsDay`) the patient was
    # stored for: from `adherence_first` to `adherence_last` (None: not computed), the
    # counts of `care.domain.outcomes` (None: not counted, enrolled after the last day), the
    # check-in share and whether adherence dropped; summed per group in
    # `OutcomeFactsAdherence`.
    adherence_first = models.DateField(null=True)
    adherence_last = models.DateField(null=True)
    adherence_expected = models.IntegerField(null=True)
    adherence_done = models.IntegerField(null=True)
    adherence_recent_expected = models.IntegerField(null=True)
    adherence_recent_done = models.IntegerField(null=True)
    adherence_earlier_expected = models.IntegerField(null=True)
    adherence_earlier_done = models.IntegerField(null=True)
    adherence_q_expected = models.IntegerField(null=True)
    adherence_q_done = models.IntegerField(null=True)
    adherence_share = models.FloatField(null=True)
    adherence_dropped = models.BooleanField(null=True)
    first_held_at = models.DateTimeField()
    routes = ArrayField(models.CharField(max_length=20))
    # The latest of the patient's questionnaires and held sessions: the stored facts stand
    # for a period that ends after it (nothing of the patient's falls after such a period).
    last_at = models.DateTimeField()
    # Adherence, in the patient's local days from `origin` (their earliest day below): the
    # days with a check-in; with a held session, and with one that had one of the patient's
    # questionnaires in the 48 hours before it (a second session the same day, rare, as the
    # day once more in the `_extra` list); and the days with a held session, or one of their
    # questionnaires, in the 14 days (BLOCK_DAYS) from that day on: a maintenance block that
    # starts on such a day holds one.
    origin = models.DateField(null=True)
    checkin_days = DayBitsField(null=True)
    held_days = DayBitsField(null=True)
    held_extra = ArrayField(models.DateField(), null=True)
    prepared_days = DayBitsField(null=True)
    prepared_extra = ArrayField(models.DateField(), null=True)
    held_ahead = DayBitsField(null=True)
    questionnaire_ahead = DayBitsField(null=True)

    class Meta:
        db_table = "care_outcomefacts_patient"
        indexes = [
            # A group's lowest check-in shares, and those whose adherence dropped.
            models.Index(
                fields=["group", "adherence_last", "adherence_share"],
                include=["adherence_first", "patient"],
                name="outcomefacts_share",
            ),
            models.Index(
                fields=["group", "adherence_last"],
                condition=models.Q(adherence_dropped=True),
                name="outcomefacts_dropped",
            ),
        ]

    def __str__(self) -> str:
        return f"outcome facts of patient {self.patient_id}"


class InstrumentFacts(models.Model):
    """One questionnaire of a treated patient who has a score of it (the definitions are
    `care.domain.outcomes`'s; days and weeks count from the first held session)."""

    patient = models.ForeignKey(
        "care.Patient", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    code = models.CharField(max_length=10)
    has_baseline = models.BooleanField()  # the first score is at or before the first held session
    baseline = models.SmallIntegerField()  # the first score
    responded = models.SmallIntegerField(null=True)  # week of the first response
    last_seen = models.SmallIntegerField(null=True)  # week of the last score after it

    class Meta:
        db_table = "care_outcomefacts_instrument"
        constraints = [
            models.UniqueConstraint(fields=["patient", "code"], name="outcomefacts_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} outcome facts of patient {self.patient_id}"


class OutcomeFactsGroup(models.Model):
    """Patients the outcome filters cannot tell apart: same clinic, primary clinician (0:
    none), phase, conditions, routes held and whether active (adherence counts the active
    ones). `patients`: how many are stored in it; `last_at` and `enrolled_at` are the latest
    of any patient ever stored in it: its sums stand for a period that ends after both."""

    clinic_id = models.BigIntegerField()
    clinician_id = models.BigIntegerField()
    phase = models.CharField(max_length=20)
    has_depression = models.BooleanField()
    has_anxiety = models.BooleanField()
    has_ptsd = models.BooleanField()
    routes = ArrayField(models.CharField(max_length=20))
    active = models.BooleanField()
    patients = models.IntegerField(default=0)
    last_at = models.DateTimeField()
    enrolled_at = models.DateTimeField()

    class Meta:
        db_table = "care_outcomefacts_group"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "clinic_id",
                    "clinician_id",
                    "phase",
                    "has_depression",
                    "has_anxiety",
                    "has_ptsd",
                    "routes",
                    "active",
                ],
                name="outcomefacts_group_once",
            ),
        ]

    def __str__(self) -> str:
        return f"outcome facts group {self.pk} of clinic {self.clinic_id}"


class OutcomeFactsSums(models.Model):
    """A group's questionnaire facts summed, in the order of the page's 'code' figures
    (`care.outcomes.sql.FIGURES`)."""

    group = models.ForeignKey(
        OutcomeFactsGroup, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    code = models.CharField(max_length=10)
    figures = ArrayField(models.BigIntegerField())

    class Meta:
        db_table = "care_outcomefacts_sums"
        constraints = [
            models.UniqueConstraint(fields=["group", "code"], name="outcomefacts_sums_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} sums of outcome facts group {self.group_id}"


class OutcomeFactsDay(models.Model):
    """The adherence windows of a clinic's default period (`care.domain.outcomes`) that its
    patients' stored adherence is for: moved on by the refresh when the clinic's day ends,
    every stored patient of the clinic worked out again in the same transaction."""

    clinic_id = models.BigIntegerField(primary_key=True)
    first = models.DateField()
    last = models.DateField()
    recent_first = models.DateField()
    earlier_first = models.DateField()
    earlier_last = models.DateField()

    class Meta:
        db_table = "care_outcomefacts_day"

    def __str__(self) -> str:
        return f"outcome adherence days of clinic {self.clinic_id}: {self.first} to {self.last}"


class OutcomeFactsAdherence(models.Model):
    """A group's stored adherence summed, for the windows from `first` to `last`: the
    patients counted, check-ins done and expected, questionnaires done and expected, the
    patients with an earlier share, and those whose adherence dropped."""

    group = models.ForeignKey(
        OutcomeFactsGroup, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    first = models.DateField()
    last = models.DateField()
    figures = ArrayField(models.BigIntegerField())

    class Meta:
        db_table = "care_outcomefacts_adherence"
        constraints = [
            models.UniqueConstraint(
                fields=["group", "last", "first"], name="outcomefacts_adherence_once"
            ),
        ]

    def __str__(self) -> str:
        return f"adherence sums of outcome facts group {self.group_id} to {self.last}"


class OutcomeFactsWeeks(models.Model):
    """A group's patients by the week of their first response ('responded'), and those
    never responding by the week of their last score ('censored')."""

    group = models.ForeignKey(
        OutcomeFactsGroup, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    code = models.CharField(max_length=10)
    kind = models.CharField(max_length=10)
    week = models.SmallIntegerField()
    patients = models.IntegerField()

    class Meta:
        db_table = "care_outcomefacts_weeks"
        constraints = [
            models.UniqueConstraint(
                fields=["group", "code", "kind", "week"], name="outcomefacts_weeks_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.kind} week {self.week} of outcome facts group {self.group_id}"


# The latest score at each time point (point_1, ...) and the latest score minus the baseline
# in each week (week_0 ... week_26): columns, not arrays, because the page sums them over
# every patient of the cohort and a column is summed twice as fast as an array's element.
for _n in range(1, len(TIME_POINTS) + 1):
    InstrumentFacts.add_to_class(f"point_{_n}", models.SmallIntegerField(null=True))
for _week in range(LAST_WEEK + 1):
    InstrumentFacts.add_to_class(f"week_{_week}", models.SmallIntegerField(null=True))
