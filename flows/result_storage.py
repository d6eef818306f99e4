"""Prefect result storage on S3 for a pool of workers on several machines.

Why: a ``localise-batch`` run that fans out reads each chunk run's return value (its summary
rows) from Prefect's result storage, and the flows' per-episode cache lives there unless
``cache_url`` is set. Each worker's default is a folder on its own disk, which the batch on
another machine cannot read. An ``S3Bucket`` block (``prefect-aws``) named in
``PREFECT_DEFAULT_RESULT_STORAGE_BLOCK`` on every worker and on the batch puts both on S3.

The block stores no keys: credentials come from boto3's chain on each machine (environment,
profile, instance role), the endpoint from ``AWS_ENDPOINT_URL_S3`` for S3-compatible servers.

    python -m flows.result_storage s3://localise-tracks/prefect-results [--name localise-results]
"""

from __future__ import annotations

import argparse
import os

#: The block name ``infra/README.md`` and ``infra/prefect.yaml`` use.
DEFAULT_BLOCK = "localise-results"


def create_s3_result_block(url: str, name: str = DEFAULT_BLOCK) -> str:
    """Save an ``S3Bucket`` block for ``s3://bucket/folder`` on the current Prefect API (replacing
    one of the same name); returns the value for ``PREFECT_DEFAULT_RESULT_STORAGE_BLOCK``."""
    from localise.extras import require

    require("flows", "creating the result storage block")
    try:
        from prefect_aws import AwsCredentials, S3Bucket
        from prefect_aws.client_parameters import AwsClientParameters
    except ImportError as exc:
        from localise.errors import ConfigError

        raise ConfigError("an S3 result storage block needs prefect-aws: pip install 'prefect-aws>=0.5.13,<0.6'") from exc
    if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
        from localise.errors import ConfigError

        raise ConfigError(f"not an s3://bucket[/folder] URL: {url!r}")
    bucket, _, folder = url[5:].partition("/")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    credentials = AwsCredentials(region_name=os.environ.get("AWS_DEFAULT_REGION"),
                                 aws_client_parameters=AwsClientParameters(endpoint_url=endpoint))
    S3Bucket(bucket_name=bucket, bucket_folder=folder.strip("/"), credentials=credentials).save(name, overwrite=True)
    return f"s3-bucket/{name}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.result_storage", description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="s3://bucket/folder for Prefect's results")
    parser.add_argument("--name", default=DEFAULT_BLOCK, help=f"block name (default {DEFAULT_BLOCK})")
    args = parser.parse_args(argv)
    slug = create_s3_result_block(args.url, args.name)
    print(f"PREFECT_DEFAULT_RESULT_STORAGE_BLOCK={slug}")


if __name__ == "__main__":
    main()
