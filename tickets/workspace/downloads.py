"""Attachment downloads for agents."""

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from helpdesk.audit.services import audit_record
from helpdesk.lib.downloads import file_download_response
from helpdesk.roles import is_agent
from tickets.models import Attachment
from tickets.visibility import tickets_visible_to


@require_GET
def agent_attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    if not is_agent(request.user):
        raise Http404("No such attachment.")
    attachment = get_object_or_404(
        Attachment, pk=attachment_id, message__ticket__in=tickets_visible_to(request.user)
    )
    response = file_download_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type
    )
    audit_record(action="data.attachment_download", target=attachment, request=request)
    return response
