from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from helpdesk.audit.services import audit_record
from helpdesk.roles import is_agent
from tickets.models import Attachment

# Types a browser would render or run in our origin: always served as opaque bytes.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/pdf",
        "text/xsl",
        "multipart/x-mixed-replace",
    }
)


def attachment_response(attachment: Attachment) -> FileResponse:
    """Always a download: stored HTML or SVG must never render in our origin."""
    kind = attachment.content_type.split(";")[0].strip().lower()
    if kind in _ACTIVE_TYPES or "/" not in kind or "\n" in kind or "\r" in kind:
        kind = "application/octet-stream"
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file of this attachment is missing from storage.") from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=kind
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
    response = attachment_response(attachment)
    audit_record(action="data.attachment_download", target=attachment, request=request)
    return response
