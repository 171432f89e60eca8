#!/bin/bash
# escala-etcd: this master's etcd backups in the state store, and the restore of one.
#   escala-etcd backup        snapshot the local member, upload it (SSE) with its checksum, prune
#   escala-etcd stop          stop etcd and the API server (their static pods leave the manifests)
#   escala-etcd restore KEY NAME PEER_URL INITIAL_CLUSTER
#                             replace the member's data with backup KEY (after `stop` on EVERY master)
#   escala-etcd start         start them again
# `escala restore etcd` runs stop, restore and start on every master in that order
# (docs/volumes.md). The boot script's functions (env, log, imds, fetch) are reused.
set -euo pipefail
source "${ESCALA_BOOTSTRAP:-/usr/local/sbin/escala-bootstrap}"
BACKUPS=backups/etcd/main
MANIFESTS=${ESCALA_MANIFESTS:-/etc/kubernetes/manifests}
STOPPED=${ESCALA_STOPPED:-/etc/kubernetes/stopped-by-escala}
STAMP_FORMAT=%Y%m%dT%H%M%SZ

etcd_client() {  # etcdctl as a client of the local member (kubeadm's healthcheck-client certificate)
  local pki=/etc/kubernetes/pki/etcd
  ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert="${pki}/ca.crt" \
    --cert="${pki}/healthcheck-client.crt" --key="${pki}/healthcheck-client.key" "$@"
}

member_name() { imds local-hostname; }  # kubeadm names the etcd member after the node

put() {  # put FILE KEY: one object into the cluster's state store, encrypted at rest
  aws s3 cp --only-show-errors --sse AES256 "$1" "${CONFIG_BASE}/$2"
}

backup_etcd() {  # the metadata goes last: a backup is listed only once it is whole
  local work stamp key sum
  work=$(mktemp -d)
  stamp=$(date -u +"${STAMP_FORMAT}")
  key="${BACKUPS}/${stamp}-$(member_name | cut -d. -f1)"
  etcd_client snapshot save "${work}/snapshot.db" >/dev/null
  sum=$(sha256sum "${work}/snapshot.db" | cut -d' ' -f1)
  printf '{"cluster": "%s", "created": "%s", "sha256": "%s", "size": %s}\n' \
    "${CLUSTER_NAME}" "${stamp}" "${sum}" "$(stat -c %s "${work}/snapshot.db")" > "${work}/meta.json"
  put "${work}/snapshot.db" "${key}.db"
  put "${work}/meta.json" "${key}.json"
  rm -rf "${work}"
  log "etcd backed up to ${CONFIG_BASE}/${key}.db"
  prune_backups "${stamp}"
}

backups_to_prune() {  # backups_to_prune NOW NAME...: the names retention drops
  # (every backup of the last day; the newest of each day for a week; nothing older)
  python3 - "$@" <<'PY'
import sys
from datetime import datetime, timedelta
def at(name): return datetime.strptime(name.split("-")[0], "%Y%m%dT%H%M%SZ")
now, names = at(sys.argv[1]), sorted(sys.argv[2:], key=at)
daily = {at(n).date(): n for n in names}  # the newest of each day
for n in names:
    age = now - at(n)
    if age > timedelta(days=7) or (age > timedelta(days=1) and daily[at(n).date()] != n):
        print(n)
PY
}

prune_backups() {  # prune_backups NOW
  local names
  names=$(aws s3 ls "${CONFIG_BASE}/${BACKUPS}/" | awk '{print $4}' | sed -n 's/\.json$//p')
  [ -n "${names}" ] || return 0
  for name in $(backups_to_prune "$1" ${names}); do
    aws s3 rm --only-show-errors "${CONFIG_BASE}/${BACKUPS}/${name}.json"
    aws s3 rm --only-show-errors "${CONFIG_BASE}/${BACKUPS}/${name}.db"
  done
}

check_backup() {  # check_backup META SNAPSHOT: of this cluster, and whole (its checksum)
  python3 - "$1" "$2" "${CLUSTER_NAME}" <<'PY'
import hashlib, json, sys
meta, snapshot, cluster = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
if meta["cluster"] != cluster:
    sys.exit(f"the backup is of cluster {meta['cluster']}, not {cluster}")
if hashlib.sha256(open(snapshot, "rb").read()).hexdigest() != meta["sha256"]:
    sys.exit("the snapshot does not match its checksum: corrupt or incomplete")
PY
}

stop_control_plane() {  # the kubelet stops a static pod whose manifest leaves its directory
  mkdir -p "${STOPPED}"
  for pod in kube-apiserver etcd; do
    if [ -e "${MANIFESTS}/${pod}.yaml" ]; then mv "${MANIFESTS}/${pod}.yaml" "${STOPPED}/"; fi
  done
  while etcd_client endpoint health >/dev/null 2>&1; do log "waiting for etcd to stop"; sleep 2; done
}

start_control_plane() {
  for pod in etcd kube-apiserver; do
    if [ -e "${STOPPED}/${pod}.yaml" ]; then mv "${STOPPED}/${pod}.yaml" "${MANIFESTS}/"; fi
  done
}

restore_etcd() {  # restore_etcd KEY NAME PEER_URL INITIAL_CLUSTER (KEY: the backup without .db)
  local key=$1 name=$2 peer=$3 initial=$4 work sum
  if [ -e "${MANIFESTS}/etcd.yaml" ]; then
    log "etcd still runs here: run 'escala-etcd stop' on every master first"; return 1
  fi
  work=$(mktemp -d)
  fetch "${key}.json" "${work}/meta.json" 0600
  fetch "${key}.db" "${work}/snapshot.db" 0600
  check_backup "${work}/meta.json" "${work}/snapshot.db"
  sum=$(sha256sum "${work}/snapshot.db" | cut -d' ' -f1)
  rm -rf "${ETCD_DATA_DIR}.restored"
  # Every member restores the same snapshot with the same token: a new cluster of them all.
  ETCDCTL_API=3 etcdctl snapshot restore "${work}/snapshot.db" --name "${name}" \
    --initial-cluster "${initial}" --initial-cluster-token "escala-${sum:0:16}" \
    --initial-advertise-peer-urls "${peer}" --data-dir "${ETCD_DATA_DIR}.restored" >/dev/null
  rm -rf "${ETCD_DATA_DIR}.before-restore" "${work}"
  if [ -d "${ETCD_DATA_DIR}" ]; then mv "${ETCD_DATA_DIR}" "${ETCD_DATA_DIR}.before-restore"; fi
  mv "${ETCD_DATA_DIR}.restored" "${ETCD_DATA_DIR}"
  log "etcd member ${name} restored from ${key}; its previous data is in ${ETCD_DATA_DIR}.before-restore"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    backup) backup_etcd ;;
    stop) stop_control_plane ;;
    restore) shift; restore_etcd "$@" ;;
    start) start_control_plane ;;
    *) echo "usage: escala-etcd backup | stop | restore KEY NAME PEER_URL INITIAL_CLUSTER | start" >&2
       exit 2 ;;
  esac
fi
