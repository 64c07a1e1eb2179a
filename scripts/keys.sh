#!/usr/bin/env bash
# Makes the promotion-signing key pair (ECDSA P-256) once, in .ctm/keys/ (or $1): the Registry signs promotions with
# registry.pem, Predictors verify them with registry.pub.pem. Used by ./ctm demo and before `docker compose up`.
set -euo pipefail
keys="${1:-$(cd "$(dirname "$0")/.." && pwd)/.ctm/keys}"
command -v openssl >/dev/null || { echo "openssl is needed to make the signing keys: sudo apt-get install -y openssl" >&2; exit 1; }
if [ ! -f "$keys/registry.pem" ]; then
  mkdir -p "$keys" && chmod 700 "$keys"
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$keys/registry.pem"
  openssl ec -in "$keys/registry.pem" -pubout -out "$keys/registry.pub.pem" 2>/dev/null
  chmod 600 "$keys/registry.pem"
fi
echo "$keys"
