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


def test_s3_store_against_seaweedfs(s3_server, monkeypatch, tiny_model):
    """S3Store through the standard credential chain and AWS_ENDPOINT_URL_S3, path-style."""
    from localise.io import parse_text
    from localise.pipeline import LocaliseOptions, localise_tracks
    from localise.storage import S3Store, list_sources, open_store, publish_episode, read_manifest, sha256

    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.make_bucket("store")
    store = open_store(f"s3://{bucket}/root/")
    assert isinstance(store, S3Store) and store.addressing_style == "path"
    store.write("in/ep01.srt", b"1\n00:00:01,000 --> 00:00:02,000\n\xe4\xbd\xa0\xe5\xa5\xbd\n")
    store.write("in/.staging/x.srt", b"hidden")
    assert store.read("in/ep01.srt").endswith("你好\n".encode())
    with pytest.raises(FileNotFoundError):
        store.read("in/missing.srt")
    assert store.exists("in/ep01.srt") and not store.exists("in/missing.srt")
    assert [s.episode for s in list_sources(store, "in")] == ["ep01"]

    track = parse_text(store.read("in/ep01.srt").decode(), name="ep01.srt")
    [result] = localise_tracks([track], ["en"], options=LocaliseOptions(model=str(tiny_model)))
    first = publish_episode(store, "series", "ep01", [result], source={"sha256": "s"}, signature={"m": 1})
    assert first.uploaded == 4 and first.version == 1  # track, two reports, manifest
    manifest = read_manifest(store, "series", "ep01")
    for name, digest in manifest["files"].items():
        assert sha256(store.read(f"series/ep01/{name}")) == digest
    assert not [k for k in store.list("series") if ".staging" in k]
    again = publish_episode(store, "series", "ep01", [result], source={"sha256": "s"}, signature={"m": 1})
    assert again.unchanged and again.uploaded == 0
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert all(k.startswith("root/") for k in keys)
