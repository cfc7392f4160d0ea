from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Channels"

    def ready(self) -> None:
        from anymail.signals import inbound

        from channels_app.email_hooks import anymail_inbound_received

        inbound.connect(anymail_inbound_received, dispatch_uid="helpdesk-email-inbound")
