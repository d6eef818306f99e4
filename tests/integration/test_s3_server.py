"""The SeaweedFS fixture itself: signed requests only, and data survives a stop/start (fault tests rely on it)."""

import pytest

pytestmark = pytest.mark.integration


def test_s3_server_rejects_unknown_credentials(s3_server):
    import boto3
    from botocore.exceptions import ClientError

    bucket = s3_server.make_bucket()
    stranger = boto3.client("s3", endpoint_url=s3_server.endpoint_url, aws_access_key_id="nobody",
                            aws_secret_access_key="wrong", region_name=s3_server.region)
    with pytest.raises(ClientError):
        stranger.list_objects_v2(Bucket=bucket)


def test_s3_server_keeps_objects_across_restart(s3_server):
    bucket = s3_server.make_bucket()
    s3_server.client().put_object(Bucket=bucket, Key="series/ep1/en.srt", Body=b"1\n")
    s3_server.stop()
    assert not s3_server.running
    with pytest.raises(Exception):
        s3_server.client().get_object(Bucket=bucket, Key="series/ep1/en.srt")
    s3_server.start()
    body = s3_server.client().get_object(Bucket=bucket, Key="series/ep1/en.srt")["Body"].read()
    assert body == b"1\n"
