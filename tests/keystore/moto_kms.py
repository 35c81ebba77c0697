"""AWS KMS for the tests: moto's in-process KMS, credentials that are not anyone's, and none of the machine's AWS
configuration, so nothing reaches AWS."""

from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

REGION = "eu-central-1"
ALIAS = "alias/recording-portal"


@pytest.fixture
def kms(monkeypatch, tmp_path):
    """A KMS key of moto's; credentials that are not anyone's, and no profile or config of the machine's."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("kms", region_name=REGION)
        metadata = client.create_key(Description="recording portal master key")["KeyMetadata"]
        client.create_alias(AliasName=ALIAS, TargetKeyId=metadata["KeyId"])
        yield SimpleNamespace(client=client, arn=metadata["Arn"], key=metadata["KeyId"])


def kms_settings(prefix: str = "PORTAL_MASTER_KEY", key: str = ALIAS, **extra: str) -> dict[str, str]:
    values = {f"{prefix}_KMS_KEY_ID": key, f"{prefix}_KMS_REGION": REGION, **extra}
    if prefix == "PORTAL_MASTER_KEY":
        values.update(PORTAL_MASTER_KEY="", PORTAL_MASTER_KEY_FILE="")
    return values
