"""HELPDESK_STORAGE_URL (helpdesk/lib/storage.py): empty keeps the filesystem, s3://
selects the S3 backend with its options, anything else fails loudly at start-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from helpdesk.lib.storage import FILESYSTEM, S3, storage_config


def test_it_keeps_the_local_filesystem_by_default() -> None:
    assert storage_config("") == {"BACKEND": FILESYSTEM}
    assert storage_config("  ") == {"BACKEND": FILESYSTEM}


def test_it_reads_bucket_prefix_endpoint_region_and_addressing() -> None:
    config = storage_config(
        "s3://desk-files/prod/media?endpoint=https://s3.example.net&region=eu-central-1"
        "&addressing=path"
    )
    assert config["BACKEND"] == S3
    options = config["OPTIONS"]
    assert (options["bucket_name"], options["location"]) == ("desk-files", "prod/media")
    assert options["endpoint_url"] == "https://s3.example.net"
    assert (options["region_name"], options["addressing_style"]) == ("eu-central-1", "path")
    # Private objects, no overwrites, short signed URLs.
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert options["querystring_auth"] is True and options["querystring_expire"] == 300


def test_a_bare_bucket_uses_the_providers_defaults() -> None:
    options = storage_config("s3://desk-files")["OPTIONS"]
    assert options["location"] == ""
    assert not {"endpoint_url", "region_name", "addressing_style"} & set(options)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("gs://bucket", "use s3://"),
        ("/var/media", "use s3://"),
        ("s3://", "name the bucket"),
        ("s3://key:secret@bucket", "no credentials"),
        ("s3://bucket?addressing=sideways", "use path or virtual"),
        ("s3://bucket?endpoint=ftp://x", "must be an http(s) URL"),
        ("s3://bucket?acl=public-read", "unknown option(s) acl"),
    ],
)
def test_it_refuses_what_it_cannot_use(url: str, says: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=says.replace("(", r"\(").replace(")", r"\)")):
        storage_config(url)


def _settings_storage(tmp_path: Path, url: str) -> subprocess.CompletedProcess:
    """STORAGES["default"] as a fresh process sees it with HELPDESK_STORAGE_URL=url."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "VIRTUAL_ENV"}}
    env.update(
        HELPDESK_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        HELPDESK_STORAGE_URL=url,
    )
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "from django.core.files.storage import storages; "
        "print(json.dumps([settings.STORAGES['default'], type(storages['default']).__name__]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(django_settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_settings_read_it_from_the_environment(tmp_path: Path) -> None:
    done = _settings_storage(tmp_path, "s3://from-env/x?endpoint=http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr
    config, backend = json.loads(done.stdout)
    assert config["OPTIONS"]["bucket_name"] == "from-env"
    assert backend == "S3AttachmentStorage"


def test_a_bad_value_stops_the_start(tmp_path: Path) -> None:
    done = _settings_storage(tmp_path, "minio://bucket")
    assert done.returncode != 0
    assert "HELPDESK_STORAGE_URL 'minio://bucket': use s3://" in done.stderr
