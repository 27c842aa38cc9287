from django.apps import AppConfig
from django.db.models.signals import post_delete


class EstablishmentsConfig(AppConfig):
    name = "apps.establishments"
    label = "establishments"
    verbose_name = "Establishments"

    def ready(self) -> None:
        from .models import Establishment
        from .selectors import forget_cached_establishment_ids

        def forget(**kwargs) -> None:
            # Nothing in the product deletes an establishment; a deletion from a
            # shell (or a test's cascade) is forgotten at once in this process.
            forget_cached_establishment_ids()

        post_delete.connect(forget, sender=Establishment, weak=False,
                            dispatch_uid="forget-establishment-ids")
