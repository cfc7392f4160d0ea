"""Checks for uploaded files (the web form, the API): count, size, and type sniffed from
the content.

The browser's Content-Type and the file name are the sender's claims; the bytes decide.
Executables are refused whatever they are called.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from tickets.files import content_sniff, file_is_dangerous


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    content: bytes


def check_uploads(files: Sequence[UploadedFile]) -> list[CheckedFile]:
    """The files, read and typed, or ValidationError saying which one is refused and why."""
    max_files = settings.HELPDESK_WEB_MAX_FILES
    max_bytes = settings.HELPDESK_WEB_MAX_FILE_BYTES
    files = [f for f in files if f and f.name]
    if len(files) > max_files:
        raise ValidationError(
            f"You attached {len(files)} files; the limit is {max_files}. Remove some, or "
            "put them in one zip file.",
            code="too_many_files",
        )
    checked = []
    for upload in files:
        name = PurePath(upload.name or "attachment").name[:200]
        if upload.size is not None and upload.size > max_bytes:
            raise ValidationError(
                f"“{name}” is {filesizeformat(upload.size)}; each file may be at most "
                f"{filesizeformat(max_bytes)}. Compress it or send a smaller one.",
                code="file_too_big",
            )
        content = upload.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise ValidationError(
                f"“{name}” is larger than {filesizeformat(max_bytes)}, the limit per file.",
                code="file_too_big",
            )
        if not content:
            raise ValidationError(f"“{name}” is empty. Attach the file again.", code="empty_file")
        mime = content_sniff(content, name)
        if file_is_dangerous(content_type=mime, filename=name):
            raise ValidationError(
                f"“{name}” is a program or script, which we do not accept for your safety. "
                "Send a screenshot or a document instead.",
                code="executable",
            )
        checked.append(CheckedFile(filename=name, content_type=mime, content=content))
    return checked
