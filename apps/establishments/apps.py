from django.apps import AppConfig


class EstablishmentsConfig(AppConfig):
    name = "apps.establishments"
    label = "establishments"
    verbose_name = "Establishments"
