"""What the machines run: the cluster PKI, kubeadm configuration and cloud-init user-data."""
