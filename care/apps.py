from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "care"
    verbose_name = _("Care")

    def ready(self) -> None:
        # checks registers the deploy checks; security connects its sign-in receivers.
        from care import checks  # noqa: F401
        from care.accounts import security, signals  # noqa: F401

        signals.connect()
