from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "helpdesk.audit"
    label = "audit"
    verbose_name = "Audit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from helpdesk.audit import receivers

        receivers.connect()
