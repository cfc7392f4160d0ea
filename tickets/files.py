"""What a file really is, from its bytes: every channel's attachments are typed here.

A file name and a declared Content-Type are the sender's claims; the content decides.
"""

import mimetypes
from pathlib import PurePath

import filetype

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
        "text/x-script",
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
SNIFF_BYTES = 8192


def content_magic(head: bytes) -> str | None:
    """The type the content's magic number says, or None when it says nothing."""
    kind = filetype.guess(head[:SNIFF_BYTES])
    if kind is not None:
        return str(kind.mime)
    if head.startswith(_MACH_O) or head.startswith(b"\xca\xfe\xba\xbe"):
        return "application/x-mach-binary"
    if head.startswith(b"#!"):
        return "text/x-script"
    return None


def content_sniff(head: bytes, filename: str) -> str:
    """The content's type: its magic number, else a text type its name says, else bytes."""
    magic = content_magic(head)
    if magic is not None:
        return magic
    guessed, _ = mimetypes.guess_type(filename)
    return guessed if guessed in _TEXT_TYPES else "application/octet-stream"


def file_is_dangerous(*, content_type: str, filename: str) -> bool:
    """A program or script, by its content or by the name a click would run it under."""
    extension = PurePath(filename).suffix.lower().lstrip(".")
    kind = content_type.split(";")[0].strip().lower()
    return kind in EXECUTABLE_MIMES or extension in EXECUTABLE_EXTENSIONS
