from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The agent workspace (/agent/): pages, forms, live updates and presence for agents."""

    name = "tickets.workspace"
    label = "workspace"
    verbose_name = "Agent workspace"

    def ready(self) -> None:
        from tickets.workspace.live import live_subscribe

        live_subscribe()
