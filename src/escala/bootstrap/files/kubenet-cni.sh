#!/bin/bash
# kubenet the way kops does it today: a CNI bridge + host-local IPAM on this node's
# pod CIDR; the AWS cloud-controller-manager puts the route to it in the VPC route table.
set -euo pipefail
export KUBECONFIG=/etc/kubernetes/kubelet.conf
node=$(curl -sf -H "X-aws-ec2-metadata-token: $(curl -sf -X PUT http://169.254.169.254/latest/api/token \
  -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')" http://169.254.169.254/latest/meta-data/local-hostname)
until cidr=$(kubectl get node "${node}" -o 'jsonpath={.spec.podCIDR}') && [ -n "${cidr}" ]; do
  sleep 5
done
mkdir -p /etc/cni/net.d
cat > /etc/cni/net.d/10-kubenet.conflist <<CONF
{
  "cniVersion": "1.0.0",
  "name": "kubenet",
  "plugins": [
    {"type": "bridge", "bridge": "cbr0", "isGateway": true, "ipMasq": false,
     "hairpinMode": true, "ipam": {"type": "host-local", "ranges": [[{"subnet": "${cidr}"}]],
     "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CONF
# Traffic leaving the VPC is masqueraded; pod-to-pod traffic keeps its source address.
iptables -t nat -C POSTROUTING ! -d "${NON_MASQUERADE_CIDR}" -m addrtype ! --dst-type LOCAL -j MASQUERADE 2>/dev/null \
  || iptables -t nat -A POSTROUTING ! -d "${NON_MASQUERADE_CIDR}" -m addrtype ! --dst-type LOCAL -j MASQUERADE
