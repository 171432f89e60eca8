"""The access tests use the bootstrap fixtures (a state store holding one cluster) and
the Kubernetes API fake's fixtures."""

from tests.bootstrap.conftest import cluster, store  # noqa: F401
from tests.kube.conftest import fake_api, kubeconfig  # noqa: F401
