"""The bootstrap fixtures (a state store holding one cluster) serve the access tests too."""

from tests.bootstrap.conftest import cluster, store  # noqa: F401
