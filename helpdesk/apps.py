from django.apps import AppConfig
from django.db.models.signals import post_migrate


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Help desk"

    def ready(self) -> None:
        from helpdesk import checks, signals  # noqa: F401  (deploy checks; worker heartbeat)
        from helpdesk.setup import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self)
