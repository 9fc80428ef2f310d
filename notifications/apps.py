from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        from notifications.lookups import AnyOf

        # Related fields keep lookups of their own: registered on both.
        for field in (Field, ForeignObject):
            field.register_lookup(AnyOf)
