from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "care"
    verbose_name = _("Care")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the security checks)
