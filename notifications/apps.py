from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        from care.accounts.events import patient_enrolled
        from care.outcomes.reminders import ReminderSource, reminder_source_register
        from notifications.lookups import AnyOf
        from notifications.preferences import on_patient_enrolled
        from notifications.selectors import outcome_reminder_counts, skip_reasons

        # Related fields keep lookups of their own: registered on both.
        for field in (Field, ForeignObject):
            field.register_lookup(AnyOf)
        # The outcome report's reminder figures.
        reminder_source_register(
            ReminderSource(counts=outcome_reminder_counts, skip_reasons=skip_reasons)
        )
        # A new patient gets a reminder preference, in the enrollment's transaction.
        patient_enrolled.connect(on_patient_enrolled, dispatch_uid="notifications.preference")
