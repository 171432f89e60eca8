#!/bin/bash
# escala boot script: turns a fresh Ubuntu/Debian instance into a master or node.
# Reads /etc/escala/env (written by cloud-init, nothing secret in it) and fetches
# the cluster's material from the state store through the instance role.
set -euo pipefail
source "${ESCALA_ENV:-/etc/escala/env}"
log() { echo "escala-bootstrap: $*" >&2; }

imds() {
  local token
  token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -sf -H "X-aws-ec2-metadata-token: ${token}" "http://169.254.169.254/latest/meta-data/$1"
}

install_awscli() {
  command -v aws >/dev/null && return
  curl -sfL "https://awscli.amazonaws.com/awscli-exe-linux-$(uname -m).zip" -o /tmp/awscli.zip
  unzip -q /tmp/awscli.zip -d /tmp && /tmp/aws/install && rm -rf /tmp/aws /tmp/awscli.zip
}

kubernetes_repo() {  # kubernetes_repo VERSION: pkgs.k8s.io's channel of VERSION's minor
  local minor=${1%.*}
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL "https://pkgs.k8s.io/core:/stable:/v${minor}/deb/Release.key" \
    | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
  echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /" \
    > /etc/apt/sources.list.d/kubernetes.list
  apt-get update -q
}

install_kubernetes_packages() {  # install_kubernetes_packages VERSION PACKAGE...: pinned, held
  local version=$1 package pinned=()
  shift
  for package in "$@"; do pinned+=("${package}=${version}-*"); done
  kubernetes_repo "${version}"
  apt-mark unhold "$@" >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages "${pinned[@]}"
  apt-mark hold "$@"
}

install_kubernetes() {  # install_kubernetes [VERSION]: containerd from the distribution, kubeadm/kubelet/kubectl
  install_kubernetes_packages "${1:-${KUBERNETES_VERSION}}" kubelet kubeadm kubectl
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd
  mkdir -p /etc/containerd
  containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml
  systemctl restart containerd
  systemctl enable kubelet
}

install_ecr_credential_provider() {  # the kubelet's token source for ECR images
  local arch
  arch=$(dpkg --print-architecture)
  install -d -m 0755 "${CREDENTIAL_PROVIDER_DIR}"
  curl -fsSL "${ECR_CREDENTIAL_PROVIDER_URL//ARCH/${arch}}" \
    -o "${CREDENTIAL_PROVIDER_DIR}/ecr-credential-provider"
  chmod 0755 "${CREDENTIAL_PROVIDER_DIR}/ecr-credential-provider"
}

fetch() {  # fetch KEY DEST MODE: one object of the cluster's state store
  aws s3 cp --only-show-errors "${CONFIG_BASE}/$1" "$2"
  chmod "$3" "$2"
}

read_object() { aws s3 cp --only-show-errors "${CONFIG_BASE}/$1" -; }  # to stdout

api_endpoint() {  # the API NLB's DNS name, by the naming contract
  if [ -n "${API_ENDPOINT:-}" ]; then echo "${API_ENDPOINT}"; return; fi
  aws elbv2 describe-load-balancers --region "${REGION}" --names "${API_LB_NAME}" \
    --query 'LoadBalancers[0].DNSName' --output text
}

mount_etcd_volume() {  # attach, format if new, and mount this master's etcd EBS volume
  local zone instance volume device
  zone=$(imds placement/availability-zone)
  instance=$(imds instance-id)
  volume=$(aws ec2 describe-volumes --region "${REGION}" --filters \
    "Name=tag:KubernetesCluster,Values=${CLUSTER_NAME}" \
    "Name=tag:escala.io/instancegroup,Values=${INSTANCE_GROUP}" \
    "Name=availability-zone,Values=${zone}" \
    --query "Volumes[?Tags[?Key=='escala.io/etcd' && starts_with(Value, 'main/')]].VolumeId | [0]" \
    --output text)
  [ -n "${volume}" ] && [ "${volume}" != None ] || { log "no etcd volume in ${zone}"; exit 1; }
  until aws ec2 attach-volume --region "${REGION}" --volume-id "${volume}" \
      --instance-id "${instance}" --device /dev/xvdf >/dev/null 2>&1; do
    log "waiting for ${volume} to be free (its previous master may still hold it)"; sleep 10
  done
  device=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume/-/}
  until [ -e "${device}" ] || [ -e /dev/xvdf ]; do sleep 2; done
  [ -e "${device}" ] || device=/dev/xvdf
  blkid "${device}" >/dev/null || mkfs.ext4 -q -L etcd "${device}"
  mkdir -p "${ETCD_MOUNT}"
  echo "${device} ${ETCD_MOUNT} ext4 defaults,nofail 0 2" >> /etc/fstab
  mount "${ETCD_MOUNT}"
}

fetch_control_plane_pki() {  # kubeadm's manual certificate distribution
  local pki=/etc/kubernetes/pki
  mkdir -p "${pki}/etcd"
  fetch pki/issued/ca/cert.pem "${pki}/ca.crt" 0644
  fetch pki/private/ca/key.pem "${pki}/ca.key" 0600
  fetch pki/issued/front-proxy-ca/cert.pem "${pki}/front-proxy-ca.crt" 0644
  fetch pki/private/front-proxy-ca/key.pem "${pki}/front-proxy-ca.key" 0600
  fetch pki/issued/etcd-ca/cert.pem "${pki}/etcd/ca.crt" 0644
  fetch pki/private/etcd-ca/key.pem "${pki}/etcd/ca.key" 0600
  fetch pki/issued/service-account/key.pub "${pki}/sa.pub" 0644
  fetch pki/private/service-account/key.pem "${pki}/sa.key" 0600
}

fetch_master_files() {  # what does not fit in user-data (MASTER_FILES: key:path:mode,...)
  local items item key path mode
  IFS=, read -ra items <<< "${MASTER_FILES:-}"
  for item in "${items[@]}"; do
    IFS=: read -r key path mode <<< "${item}"
    mkdir -p "$(dirname "${path}")"
    fetch "${key}" "${path}" "${mode}"
  done
}

ca_cert_hash() {  # sha256 of the CA's SubjectPublicKeyInfo, as kubeadm documents
  openssl x509 -pubkey -in "$1" | openssl pkey -pubin -outform der \
    | openssl dgst -sha256 -hex | sed 's/^.* /sha256:/'
}

render() {  # render TEMPLATE: fill the ${VAR} placeholders of a kubeadm config
  envsubst '${NODE_NAME} ${API_ENDPOINT} ${BOOTSTRAP_TOKEN} ${CA_CERT_HASH}' < "$1"
}

api_is_up() { curl -sk --max-time 5 "https://${API_ENDPOINT}:443/livez" >/dev/null; }

# A master that replaces another (rolling-update) mounts its predecessor's etcd volume.
# Before `kubeadm join --control-plane` adds it as a new etcd member, the member of the
# master it replaces must leave the etcd cluster (else the cluster counts a dead voter
# and quorum gets harder with every replacement) and that member's old data must leave
# the data dir (etcd would otherwise start as the removed member; kubeadm's preflight
# also wants the data dir empty).

master_ips() {  # private IPs of the cluster's running masters, this one included
  aws ec2 describe-instances --region "${REGION}" --filters \
    "Name=tag:KubernetesCluster,Values=${CLUSTER_NAME}" \
    "Name=tag:escala.io/role,Values=master" "Name=instance-state-name,Values=running" \
    --query 'Reservations[].Instances[].PrivateIpAddress' --output text
}

etcd_api() {  # etcd_api PEER_IP PATH JSON: one call to etcd's v3 JSON gateway, as its client
  local pki=/etc/kubernetes/pki/etcd
  curl -sf --max-time 10 --cacert "${pki}/ca.crt" --cert "${pki}/healthcheck-client.crt" \
    --key "${pki}/healthcheck-client.key" -X POST "https://$1:2379/v3/$2" -d "$3"
}

stale_etcd_members() {  # stale_etcd_members MEMBER_LIST_JSON IP...: IDs of members on none of IPs
  python3 - "$@" <<'PY'
import json, sys
from urllib.parse import urlparse
members, alive = json.loads(sys.argv[1]).get("members", []), set(sys.argv[2:])
for m in members:
    hosts = {urlparse(u).hostname for u in m.get("peerURLs", [])}
    if hosts and not hosts & alive:
        print(m["ID"])
PY
}

remove_stale_etcd_members() {  # [VERSION]: ask a live peer to drop the members of gone masters
  local self ips peer members id
  # A client certificate from the pre-placed etcd CA (kept: the join reuses it).
  kubeadm init phase certs etcd-healthcheck-client --kubernetes-version "v${1:-${KUBERNETES_VERSION}}"
  self=$(imds local-ipv4)
  ips=$(master_ips)
  for peer in ${ips}; do
    [ "${peer}" = "${self}" ] && continue
    members=$(etcd_api "${peer}" cluster/member/list '{}') || continue
    for id in $(stale_etcd_members "${members}" ${ips}); do
      log "removing etcd member ${id}: its master is gone"
      etcd_api "${peer}" cluster/member/remove "{\"ID\":\"${id}\"}" >/dev/null
    done
    return 0
  done
  log "no etcd peer answered; joining without removing stale members"
}

set_aside_etcd_data() {  # keep the predecessor's data beside, out of the new member's way
  local data="${ETCD_DATA_DIR}"
  [ -d "${data}" ] && [ -n "$(ls -A "${data}")" ] || return 0
  log "the etcd volume holds a previous member's data; moving it to ${data}.replaced"
  rm -rf "${data}.replaced"
  mv "${data}" "${data}.replaced"
}

# Upgrades: kubeadm's HA procedure, carried by rolling-update's replacements (the why and
# the table of cases: docs/operations.md, "How the machines get the new version").

minor_of() { local rest=${1#*.}; echo "${rest%%.*}"; }  # 1.31.2 -> 31

version_older() {  # version_older A B: A is an older release than B (an empty A is not)
  [ -n "$1" ] && [ "$1" != "$2" ] \
    && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]
}

api_get() {  # api_get PATH: GET from the API server with the join token, as `kubeadm join` reads
  curl -sf --max-time 10 --cacert /etc/kubernetes/pki/ca.crt \
    -H "Authorization: Bearer ${BOOTSTRAP_TOKEN}" "https://${API_ENDPOINT}:443$1"
}

stored_cluster_version() {  # kubernetesVersion of the cluster's kubeadm ClusterConfiguration
  # kubeadm lets the join token's group read kubeadm-config (Role kubeadm:nodes-kubeadm-config)
  local configmap
  configmap=$(api_get /api/v1/namespaces/kube-system/configmaps/kubeadm-config) || {
    log "cannot read kubeadm-config; joining as if the cluster ran ${KUBERNETES_VERSION}"
    return 0
  }
  python3 - "${configmap}" <<'PY'
import json, re, sys
config = json.loads(sys.argv[1])["data"]["ClusterConfiguration"]
found = re.search(r'^kubernetesVersion:\s*["\x27]?v?([0-9.]+)', config, re.M)
print(found[1] if found else "")
PY
}

join_version() {  # join_version STORED TARGET: the release to install before joining
  local stored=$1 target=$2
  if ! version_older "${stored}" "${target}"; then echo "${target}"; return; fi
  case $(( $(minor_of "${target}") - $(minor_of "${stored}") )) in
    0) echo "${target}" ;;  # a newer patch joins an older one of its minor
    1) echo "${stored}" ;;  # the next minor: join as the cluster is (kubelet skew), then upgrade
    *) log "the cluster runs ${stored}; ${target} skips a minor: kubeadm upgrades one minor at a time"
       return 1 ;;
  esac
}

upgrade_control_plane() {  # upgrade_control_plane VERSION: kubeadm's steps on this master
  local target=$1
  log "upgrading this control-plane node to ${target}"
  install_kubernetes_packages "${target}" kubeadm
  if [ "$(stored_cluster_version)" = "${target}" ]; then
    kubeadm upgrade node  # another master already upgraded the stored configuration
  else
    kubeadm upgrade apply "v${target}" --yes  # the first one: configuration, add-ons, this node
  fi
  install_kubernetes_packages "${target}" kubelet kubectl
  systemctl daemon-reload
  systemctl restart kubelet
}

kubeadm_join() {
  render /etc/escala/kubeadm/join.yaml > /etc/kubernetes/kubeadm.yaml
  kubeadm join --config /etc/kubernetes/kubeadm.yaml
}

join_control_plane() {  # a master joining the running cluster (a replacement, or a later zone)
  local stored version
  stored=$(stored_cluster_version)
  version=$(join_version "${stored}" "${KUBERNETES_VERSION}")
  install_kubernetes "${version}"
  remove_stale_etcd_members "${version}"
  set_aside_etcd_data
  kubeadm_join
  if version_older "${stored}" "${KUBERNETES_VERSION}"; then
    upgrade_control_plane "${KUBERNETES_VERSION}"
  fi
}

join_node() {  # join_node STORED: join at the control plane's release if older (kubelet skew)
  local stored=$1 version
  version=$(join_version "${stored}" "${KUBERNETES_VERSION}")
  if [ "${version}" != "${KUBERNETES_VERSION}" ]; then
    log "the control plane runs ${stored}: joining at ${version}, as a kubelet may not be newer" \
      "than its API server; roll the masters first (rolling-update's default order)"
  fi
  install_kubernetes "${version}"
  kubeadm_join
}

apply_addons() {
  export KUBECONFIG=/etc/kubernetes/admin.conf
  for manifest in /etc/escala/addons/*.yaml; do
    [ -e "${manifest}" ] && kubectl apply -f "${manifest}"
  done
  case "${NETWORKING}" in
    calico) kubectl apply -f "${CALICO_MANIFEST}" ;;
    cilium)
      curl -sfL "${CILIUM_CLI/amd64/$(dpkg --print-architecture)}" | tar -xz -C /usr/local/bin cilium
      cilium install --version "${CILIUM_VERSION}" --set ipam.mode=kubernetes ;;
  esac
}

main() {
  install_awscli
  install_ecr_credential_provider  # before any kubelet starts: its image credentials
  export NODE_NAME API_ENDPOINT BOOTSTRAP_TOKEN CA_CERT_HASH
  NODE_NAME=$(imds local-hostname)
  API_ENDPOINT=$(api_endpoint)
  local ca=/etc/kubernetes/pki/ca.crt
  mkdir -p /etc/kubernetes/pki
  if [ "${ROLE}" = Master ]; then
    BOOTSTRAP_TOKEN=$(read_object pki/private/bootstrap-token/token)
    fetch_control_plane_pki
    fetch_master_files
    mount_etcd_volume
    CA_CERT_HASH=$(ca_cert_hash "${ca}")
    # The first zone's master (INIT_GROUP) founds the cluster; any master launched once the API
    # answers (the others, or a replacement of the first) joins it.
    if [ "${INSTANCE_GROUP}" = "${INIT_GROUP}" ] && ! api_is_up; then
      install_kubernetes
      render /etc/escala/kubeadm/init.yaml > /etc/kubernetes/kubeadm.yaml
      kubeadm init --config /etc/kubernetes/kubeadm.yaml --upload-certs=false
      apply_addons
    else
      until api_is_up; do log "waiting for the API at ${API_ENDPOINT}"; sleep 15; done
      join_control_plane
    fi
  else
    BOOTSTRAP_TOKEN=$(read_object node/bootstrap-token)
    fetch node/ca.crt "${ca}" 0644
    CA_CERT_HASH=$(ca_cert_hash "${ca}")
    until api_is_up; do log "waiting for the API at ${API_ENDPOINT}"; sleep 15; done
    local stored
    stored=$(stored_cluster_version)  # read with the CA in place, before kubeadm wants it gone
    rm -f "${ca}"  # kubeadm join refuses a pre-existing ca.crt; it writes its own copy
    join_node "${stored}"
  fi
  rm -f /etc/kubernetes/kubeadm.yaml  # it held the bootstrap token
  if [ "${NETWORKING}" = kubenet ]; then systemctl enable --now escala-kubenet.service; fi
}

# Sourced (by the tests), it only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
