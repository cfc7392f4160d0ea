"""Attachments: files sent with a reply or note (multipart), checked as the web form's are,
and downloads of a ticket's files for those who may see the ticket."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from helpdesk.audit.services import audit_record
from helpdesk.lib.downloads import file_download_response
from tickets.api.permissions import ApiView
from tickets.models import Attachment
from tickets.services import NewFile
from tickets.uploads import check_uploads
from tickets.visibility import tickets_visible_to


class UploadRefused(APIException):
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "upload_refused"


class UploadTooLarge(UploadRefused):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_big"


def _body_limit() -> int:
    # Every allowed file at its largest, and room for the text fields.
    return settings.HELPDESK_WEB_MAX_FILES * settings.HELPDESK_WEB_MAX_FILE_BYTES + 1024 * 1024


def body_length_check(request: Request) -> None:
    """Refuse a body larger than every allowed file together by its declared length,
    before anything reads it."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > _body_limit():
        raise UploadTooLarge(
            f"The request is over {_body_limit() // 1_048_576} MB: send at most "
            f"{settings.HELPDESK_WEB_MAX_FILES} files of up to "
            f"{settings.HELPDESK_WEB_MAX_FILE_BYTES // 1_048_576} MB each."
        )


def uploads_read(request: Request) -> list[NewFile]:
    """The request's `attachments`, read and typed by their content (tickets.uploads, the
    web form's checks); a body too large is refused by its declared length before it is
    read, a refused file is named in the answer (`file_too_big`, `executable`, ...)."""
    body_length_check(request)
    try:
        checked = check_uploads(request.FILES.getlist("attachments"))
    except ValidationError as exc:
        code = exc.code or "upload_refused"
        refused = UploadTooLarge if code == "file_too_big" else UploadRefused
        raise refused(exc.messages[0], code=code) from exc
    return [NewFile(f.filename, f.content_type, f.content) for f in checked]


class AttachmentDownloadApi(ApiView):
    required_scopes = {"GET": "tickets:read"}

    @extend_schema(
        summary="Download an attachment",
        description="The file, always as a download (`Content-Disposition: attachment`), "
        "for an attachment of a ticket you may see; 404 for any other.",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file's bytes."
            )
        },
    )
    def get(self, request: Request, attachment_id: int) -> FileResponse:
        attachment = get_object_or_404(
            Attachment, pk=attachment_id, message__ticket__in=tickets_visible_to(request.user)
        )
        response = file_download_response(
            attachment.file, filename=attachment.filename, content_type=attachment.content_type
        )
        audit_record(
            action="data.attachment_download",
            actor=request.user,
            target=attachment,
            request=request._request,
        )
        return response
