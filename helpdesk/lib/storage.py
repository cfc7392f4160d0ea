"""Where attachments and staged uploads live: STORAGES["default"] from one setting.

`HELPDESK_STORAGE_URL` empty (the default) keeps them on the local filesystem under
MEDIA_ROOT. `s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&addressing=path|virtual]`
puts them in an S3-compatible bucket (AWS, MinIO, Ceph, R2...) through django-storages;
the credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, a profile, an instance role), never from the URL. The bucket stays
private: objects get no ACL of their own and every download goes through the desk's
permission-checked views (helpdesk.lib.downloads), which stream the object.

This module only parses: it imports no storage backend, so settings load without boto3.
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

FILESYSTEM = "django.core.files.storage.FileSystemStorage"
S3 = "helpdesk.lib.s3.S3AttachmentStorage"
_QUERY_KEYS = {"endpoint", "region", "addressing"}


def storage_config(url: str) -> dict[str, Any]:
    """The STORAGES["default"] entry `url` names (see the module docstring); a value that
    does not parse raises ImproperlyConfigured saying what to write instead."""
    url = url.strip()
    if not url:
        # No OPTIONS: the backend reads MEDIA_ROOT itself, when it is first used.
        return {"BACKEND": FILESYSTEM}
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ImproperlyConfigured(
            f"HELPDESK_STORAGE_URL {url!r}: use s3://BUCKET[/PREFIX]?endpoint=...&region=..., "
            "or leave it empty for the local filesystem."
        )
    if not parts.hostname or parts.username or parts.password or parts.port:
        raise ImproperlyConfigured(
            f"HELPDESK_STORAGE_URL {url!r}: name the bucket right after s3:// (no "
            "credentials or port there: credentials come from AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, the server from ?endpoint=)."
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - _QUERY_KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"HELPDESK_STORAGE_URL: unknown option(s) {', '.join(unknown)}; use "
            f"{', '.join(sorted(_QUERY_KEYS))}."
        )
    addressing = query.get("addressing", "")
    if addressing not in ("", "path", "virtual"):
        raise ImproperlyConfigured(
            f"HELPDESK_STORAGE_URL: addressing={addressing!r}; use path or virtual."
        )
    endpoint = query.get("endpoint", "")
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ImproperlyConfigured(
            f"HELPDESK_STORAGE_URL: endpoint={endpoint!r} must be an http(s) URL."
        )
    options: dict[str, Any] = {
        # The names Django generates are unique (attachment_upload_to, staged uploads):
        # an existing key is never replaced, like files on disk.
        "bucket_name": parts.hostname,
        "location": parts.path.strip("/"),
        "file_overwrite": False,
        "default_acl": None,  # the bucket's own (private): no public objects
        "querystring_auth": True,  # a URL made from a file, if any, is signed and short
        "querystring_expire": 300,
        # A read through File.open() spills to a temporary file past this size.
        "max_memory_size": 2 * 1024 * 1024,
    }
    if endpoint:
        options["endpoint_url"] = endpoint
    if query.get("region"):
        options["region_name"] = query["region"]
    if addressing:
        options["addressing_style"] = addressing
    return {"BACKEND": S3, "OPTIONS": options}
