from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "tickets.automation"
    label = "automation"
    verbose_name = "Automation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tickets.automation.engine import triggers_subscribe

        triggers_subscribe()
