"""The state store: where cluster specs and secrets live, in S3 or in a directory.

`open_store("s3://bucket/prefix")` or `open_store("file:///dir")` give the same layout,
modelled on kops's:

    <cluster>/config                    the Cluster as the user wrote it
    <cluster>/cluster-completed.spec    the Cluster with every default filled in
    <cluster>/instancegroup/<name>      one InstanceGroup each
    <cluster>/pki/...                   keys and certificates (written as secrets)
"""

from escala.state.base import ObjectStore, StateStore, open_store

__all__ = ["ObjectStore", "StateStore", "open_store"]
