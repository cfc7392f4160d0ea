"""File downloads from stored user content: always a download, never rendered in our origin."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

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


def file_download_response(file: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """Always a download: stored HTML or SVG must never render in our origin. The bytes
    come from the file's storage, streamed (the filesystem, or S3 when configured)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in _ACTIVE_TYPES or "/" not in kind or "\n" in kind or "\r" in kind:
        kind = "application/octet-stream"
    length = None
    try:
        # Object storage streams the object (helpdesk.lib.s3); the filesystem opens it.
        opener = getattr(file.storage, "open_stream", None)
        if opener is not None:
            handle, length = opener(file.name)
        else:
            handle = file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file of this attachment is missing from storage.") from exc
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=kind)
    if length is not None:
        response["Content-Length"] = str(length)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
