from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tickets.portal"
    label = "portal"
    verbose_name = "Customer web form and portal"
