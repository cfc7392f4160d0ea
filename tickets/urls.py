from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path(
        "attachments/<int:attachment_id>/",
        views.agent_attachment_download,
        name="attachment-download",
    ),
]
