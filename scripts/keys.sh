#!/usr/bin/env bash
# Makes the demo's keys once, in .ctm/keys/ (or $1), and prints that folder:
#  - the promotion-signing key pair (ECDSA P-256): the Registry signs promotions with registry.pem, Predictors verify
#    them with registry.pub.pem;
#  - one API key per role (producer.key, operator.key, reader.key, service.key; mode 600) and api-keys, the file of
#    their SHA-256 hashes the services read (Auth:KeysFile): the services never see a key itself, only its hash.
# Used by ./ctm demo and before `docker compose up`. Running it again keeps the keys it made.
set -euo pipefail
keys="${1:-$(cd "$(dirname "$0")/.." && pwd)/.ctm/keys}"
command -v openssl >/dev/null || { echo "openssl is needed to make the keys: sudo apt-get install -y openssl" >&2; exit 1; }
mkdir -p "$keys" && chmod 700 "$keys"
if [ ! -f "$keys/registry.pem" ]; then
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$keys/registry.pem"
  openssl ec -in "$keys/registry.pem" -pubout -out "$keys/registry.pub.pem" 2>/dev/null
  chmod 600 "$keys/registry.pem"
fi

# API keys: 32 random bytes each. The id (demo-<role>) is what audit logs record for the key's actions.
hashes="$keys/api-keys.tmp"
printf '# id roles sha256 -- made by scripts/keys.sh; the keys themselves are in <role>.key beside this file\n' >"$hashes"
for role in producer operator reader service; do
  if [ ! -s "$keys/$role.key" ]; then
    (umask 077 && printf 'ctm_%s\n' "$(openssl rand -hex 32)" >"$keys/$role.key")
  fi
  hash=$(tr -d '\n' <"$keys/$role.key" | openssl dgst -sha256 -r | cut -d' ' -f1)
  printf 'demo-%s %s %s\n' "$role" "$role" "$hash" >>"$hashes"
done
chmod 644 "$hashes" && mv "$hashes" "$keys/api-keys"
echo "$keys"
