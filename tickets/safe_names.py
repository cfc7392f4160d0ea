"""Filenames from the outside world, made safe to show and to offer as a download."""

import re
import unicodedata
from pathlib import PureWindowsPath

_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]")


def safe_filename(name: str, *, default: str = "attachment") -> str:
    # Drop any path part (both separators), control and reserved characters, and leading
    # dots so a name can never climb directories or hide itself.
    base = PureWindowsPath(name.replace("/", "\\")).name if name else ""
    base = unicodedata.normalize("NFC", base)
    # Format characters (bidi overrides such as U+202E, zero-width joiners) make
    # "invoice\u202efdp.exe" display as "invoiceexe.pdf": they never belong in a name.
    base = "".join(ch for ch in base if unicodedata.category(ch) != "Cf")
    base = _UNSAFE.sub("_", base).strip().lstrip(".").strip()
    if not base:
        return default
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:200]
    return base
