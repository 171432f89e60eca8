"""`escala state create`: the S3 bucket that becomes ESCALA_STATE_STORE."""

import typer

from escala.state.base import STATE_STORE_ENV

state = typer.Typer(help="The state store that keeps the specs.", no_args_is_help=True)


@state.command("create")
def create_state_command(
    bucket: str = typer.Option(..., "--bucket", help="Bucket name (global across AWS)."),
    region: str | None = typer.Option(None, "--region", help="Default: AWS_DEFAULT_REGION."),
) -> None:
    """Create a versioned, encrypted, private state bucket (safe to run again)."""
    from escala.cloud.aws.session import ClientFactory
    from escala.ops.state_bucket import check_bucket_name, create_state_bucket

    check_bucket_name(bucket)
    clients = ClientFactory(region=region)
    url = create_state_bucket(clients, bucket)
    typer.echo(f"State bucket {bucket} ready in {clients.region} (versioned, encrypted, private).")
    typer.echo(f"export {STATE_STORE_ENV}={url}")
