"""A real S3 server on loopback for the storage tests: moto's server mode in a thread.

`s3_server` starts it once per run and yields its endpoint; `s3_bucket` makes a fresh
private bucket per test and points STORAGES["default"] at it through the same setting
production reads (HELPDESK_STORAGE_URL), so every read and write of the test goes to S3.
"""

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from helpdesk.lib.storage import storage_config

REGION = "us-east-1"
# moto takes any credentials; boto3 needs some, and must never find real ones here.
_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    saved = {name: os.environ.get(name) for name in _FAKE_AWS}
    os.environ.update(_FAKE_AWS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def s3_bucket(s3_server: str, settings: Any) -> Iterator[dict[str, Any]]:
    """A fresh private bucket as the default storage: {"name", "client", "prefix"}."""
    name = f"helpdesk-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_server)
    client.create_bucket(Bucket=name)
    url = f"s3://{name}/media?endpoint={s3_server}&region={REGION}&addressing=path"
    settings.STORAGES = {**settings.STORAGES, "default": storage_config(url)}
    yield {"name": name, "client": client, "prefix": "media/"}
    listed = client.list_objects_v2(Bucket=name).get("Contents", [])
    for item in listed:
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


def s3_keys(bucket: dict[str, Any]) -> list[str]:
    listed = bucket["client"].list_objects_v2(Bucket=bucket["name"]).get("Contents", [])
    return sorted(item["Key"] for item in listed)
