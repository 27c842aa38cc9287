from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import (
            db,  # noqa: F401  (registers the __any lookup)
            observability,  # noqa: F401  (connects the Celery signals)
        )
