"""The S3 backend for attachments (selected by HELPDESK_STORAGE_URL, helpdesk.lib.storage).

django-storages' S3File reads a whole object before the first byte can be served; a
download instead streams the object's body (open_stream), so a large attachment costs
neither memory nor a wait before the browser sees it.
"""

from typing import IO, Any

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage


class S3AttachmentStorage(S3Storage):
    def open_stream(self, name: str) -> tuple[IO[bytes], int]:
        """The object's body as a stream, and its length; FileNotFoundError when there is
        no such object."""
        key = self._normalize_name(name)
        try:
            response: dict[str, Any] = self.bucket.Object(key).get()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"File does not exist: {name}") from exc
            raise
        return response["Body"], int(response["ContentLength"])
