"""Checks for files customers upload: count, size, and type sniffed from the content.

The browser's Content-Type and the file name are the sender's claims; the bytes decide.
Executables are refused whatever they are called.
"""

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

EXECUTABLE_MIMES = frozenset(
    {
        "application/x-msdownload",
        "application/x-executable",
        "application/x-dosexec",
        "application/vnd.microsoft.portable-executable",
        "application/x-mach-binary",
        "application/x-sharedlib",
        "application/vnd.android.dex",
        "application/x-google-chrome-extension",
        "application/x-shockwave-flash",
        "application/x-deb",
        "application/x-rpm",
    }
)
EXECUTABLE_EXTENSIONS = frozenset(
    {
        "apk", "app", "bat", "bin", "cmd", "com", "cpl", "dll", "dmg", "exe", "gadget", "hta",
        "inf", "ins", "isp", "jar", "js", "jse", "lnk", "msc", "msi", "msp", "mst", "pif",
        "ps1", "psm1", "reg", "scr", "sct", "sh", "shb", "so", "sys", "vb", "vbe", "vbs",
        "ws", "wsc", "wsf", "wsh", "deb", "rpm", "run", "elf", "command", "csh", "ksh",
    }
)  # fmt: skip
# Magic numbers filetype does not know: Mach-O (32/64-bit, both byte orders, universal).
_MACH_O = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
# Text types we trust the extension for when the content has no magic number.
_TEXT_TYPES = {"text/plain", "text/csv", "application/json", "text/markdown", "text/calendar"}


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    content: bytes


def _sniff(head: bytes, filename: str) -> str:
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if head.startswith(_MACH_O) or head.startswith(b"\xca\xfe\xba\xbe"):
        return "application/x-mach-binary"
    if head.startswith(b"#!"):
        return "text/x-script"
    guessed, _ = mimetypes.guess_type(filename)
    if guessed in _TEXT_TYPES:
        return guessed
    return "application/octet-stream"


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
        extension = PurePath(name).suffix.lower().lstrip(".")
        mime = _sniff(content[:8192], name)
        if (
            mime in EXECUTABLE_MIMES
            or mime == "text/x-script"
            or extension in EXECUTABLE_EXTENSIONS
        ):
            raise ValidationError(
                f"“{name}” is a program or script, which we do not accept for your safety. "
                "Send a screenshot or a document instead.",
                code="executable",
            )
        checked.append(CheckedFile(filename=name, content_type=mime, content=content))
    return checked
