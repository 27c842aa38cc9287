from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"
    verbose_name = "Threat reports"

    def ready(self) -> None:
        # A moderator's decision on an extortion case settles its threat reports.
        from . import receivers  # noqa: F401
