#!/bin/bash
# escala: renew kubeadm's one-year certificates a month ahead on a master that outlives
# them (run daily by escala-renew-certificates.timer; docs/operations.md, "Certificates").
set -euo pipefail
PKI=${ESCALA_PKI:-/etc/kubernetes/pki}
MANIFESTS=${ESCALA_MANIFESTS:-/etc/kubernetes/manifests}
RENEW_BEFORE_DAYS=${RENEW_BEFORE_DAYS:-30}
FILE_CHECK_SECONDS=20  # the kubelet's fileCheckFrequency
log() { echo "escala-renew-certificates: $*" >&2; }

expiring_certificates() {  # the leaf certificates that expire within RENEW_BEFORE_DAYS
  local cert
  for cert in "${PKI}"/*.crt "${PKI}"/etcd/*.crt; do
    [ -e "${cert}" ] || continue
    case "${cert##*/}" in ca.crt | front-proxy-ca.crt) continue ;; esac  # CAs
    openssl x509 -checkend $((RENEW_BEFORE_DAYS * 86400)) -noout -in "${cert}" >/dev/null \
      || echo "${cert}"
  done
}

restart_static_pod() {  # restart_static_pod MANIFEST: out of the kubelet's sight, and back
  local aside
  aside=$(mktemp -d)
  mv "$1" "${aside}/"
  sleep "${FILE_CHECK_SECONDS}"
  mv "${aside}/${1##*/}" "${MANIFESTS}/"
  rmdir "${aside}"
  sleep "${FILE_CHECK_SECONDS}"
}

renew_if_expiring() {
  local expiring manifest
  expiring=$(expiring_certificates)
  if [ -z "${expiring}" ]; then
    log "no certificate expires within ${RENEW_BEFORE_DAYS} days"
    return 0
  fi
  log "renewing: $(echo ${expiring}) expire within ${RENEW_BEFORE_DAYS} days"
  kubeadm certs renew all
  for manifest in "${MANIFESTS}"/*.yaml; do
    log "restarting ${manifest##*/} on its renewed certificates"
    restart_static_pod "${manifest}"
  done
}

# Sourced (by the tests), it only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then renew_if_expiring; fi
