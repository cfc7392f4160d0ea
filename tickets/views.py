from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from helpdesk.roles import is_agent
from tickets.models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """Always a download: stored HTML or SVG must never render in our origin."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream"
        if attachment.content_type.split(";")[0].strip().lower()
        in {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml"}
        else attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def agent_attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    if not is_agent(request.user):
        raise Http404("No such attachment.")
    attachment = get_object_or_404(Attachment, pk=attachment_id)
    return attachment_response(attachment)
