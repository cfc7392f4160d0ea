"""Chat channels in the admin, with the snippet to embed."""

from django.contrib import admin
from django.templatetags.static import static
from django.utils.html import format_html

from channels_app.models import ChatChannel
from helpdesk.lib.urls import absolute_url


def chat_embed_snippet(channel: ChatChannel) -> str:
    return (
        f'<script src="{absolute_url(static("chat/widget.js"))}" data-channel="{channel.key}" '
        f'data-server="{absolute_url("")}" async></script>'
    )


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "require_email", "active")
    list_filter = ("active",)
    search_fields = ("name", "allowed_domains")
    readonly_fields = ("key", "embed_snippet")
    fields = (
        "name", "allowed_domains", "colour", "greeting", "team", "require_email", "active",
        "key", "embed_snippet",
    )  # fmt: skip

    @admin.display(description="Embed snippet (paste before </body>)")
    def embed_snippet(self, obj: ChatChannel) -> str:
        if obj.pk is None:
            return "Save the channel to get its snippet."
        return format_html(
            '<textarea readonly rows="3" cols="90" aria-label="Embed snippet">{}</textarea>',
            chat_embed_snippet(obj),
        )
