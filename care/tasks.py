"""Celery tasks of the care app: thin interfaces to services, ids only."""

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from care.accounts.services import invitation_send
from care.alerts.services import daily_alerts_run_all
from care.exports.services import export_job_run, export_jobs_sweep
from care.outcomes.services import outcome_facts_refresh


@shared_task(
    name="care.send_invitation",
    # Acknowledged after it ran, so a crashed worker's message is delivered again (a
    # re-run mails a fresh link and the earlier one stops working: a duplicate is harmless).
    acks_late=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_invitation(invitation_id: int) -> None:
    """E-mail the activation link of one invitation (retried on SMTP errors)."""
    invitation_send(invitation_id=invitation_id, now=timezone.now())


@shared_task(name="care.run_alert_rules", soft_time_limit=600, time_limit=900)
def run_alert_rules() -> None:
    """Missed check-ins and booster signals for every active patient, and messages waiting
    past their clinic's response target (hourly; deduplicated)."""
    daily_alerts_run_all(now=timezone.now())


@shared_task(
    name="care.run_export",
    # Acknowledged after it ran: a lost worker's message comes back, and the job's claim
    # makes a second delivery of the message a no-op.
    acks_late=True,
    soft_time_limit=settings.EXPORT_TIME_LIMIT_SECONDS,
    time_limit=settings.EXPORT_TIME_LIMIT_SECONDS + 60,
)
def run_export(job_id: int) -> None:
    """Write one whole-clinic export file (its own queue: reminders never wait behind it)."""
    export_job_run(job_id=job_id)


@shared_task(name="care.sweep_exports", soft_time_limit=50, time_limit=60)
def sweep_exports() -> None:
    """Remove expired export files; hand on exports whose worker was lost (every minute)."""
    export_jobs_sweep(now=timezone.now())


@shared_task(name="care.refresh_outcome_facts", soft_time_limit=240, time_limit=300)
def refresh_outcome_facts() -> None:
    """Store the outcome facts of the patients whose rows changed (every minute)."""
    outcome_facts_refresh()
