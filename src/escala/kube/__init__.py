"""Talking to a cluster's Kubernetes API: kubeconfig, manifests, validation, cordon/drain/evict."""
