from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PartnersConfig(AppConfig):
    name = "apps.partners"
    label = "partners"
    verbose_name = "Partners"

    def ready(self) -> None:
        from .models import ApiKey, Partner
        from .selectors import forget_cached_api_keys

        def forget(**kwargs) -> None:
            # Revoking a key or deactivating a partner takes effect at once in
            # this process; other processes follow within API_KEY_CACHE_SECONDS.
            forget_cached_api_keys()

        for model in (ApiKey, Partner):
            post_save.connect(forget, sender=model, weak=False, dispatch_uid=f"forget-keys-{model}")
            post_delete.connect(forget, sender=model, weak=False, dispatch_uid=f"forget-keys-d-{model}")
