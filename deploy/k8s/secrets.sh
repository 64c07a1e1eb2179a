#!/usr/bin/env bash
# Creates (or updates) the secrets deploy/k8s needs, in the namespace ctm, from what the project's scripts generate:
#   scripts/keys.sh            API keys per role (.ctm/keys/api-keys: hashes only) and the Registry's signing key pair
#   scripts/infra.sh secrets   a broker password per service (.ctm/broker/passwords/) and the broker's definitions
# and a PostgreSQL password and Erlang cookie of its own (.ctm/k8s/). Then: kubectl apply -k deploy/k8s
# Usage: deploy/k8s/secrets.sh [--print]   (--print writes the Secret manifests to stdout instead of applying them)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
namespace=ctm
print=false
[ "${1:-}" = "--print" ] && print=true

keys=$(scripts/keys.sh "$root/.ctm/keys")
scripts/infra.sh secrets >/dev/null
broker=.ctm/broker
mkdir -p .ctm/k8s && chmod 700 .ctm/k8s
[ -s .ctm/k8s/postgres-password ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' >.ctm/k8s/postgres-password
[ -s .ctm/k8s/erlang-cookie ] || head -c 32 /dev/urandom | base64 | tr -d '/+=' >.ctm/k8s/erlang-cookie
pg_password=$(cat .ctm/k8s/postgres-password)

secret() { # name, then kubectl create secret generic arguments
  local name=$1; shift
  local yaml
  yaml=$(kubectl create secret generic "$name" --namespace "$namespace" --dry-run=client -o yaml "$@")
  if $print; then printf '%s\n---\n' "$yaml"; else printf '%s\n' "$yaml" | kubectl apply -f -; fi
}

command -v kubectl >/dev/null 2>&1 || { echo "kubectl is needed (https://kubernetes.io/docs/tasks/tools/)" >&2; exit 1; }
$print || kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f -
secret ctm-postgres --from-literal=username=ctm --from-literal=password="$pg_password" \
  --from-literal=connection-string="Host=postgres;Port=5432;Username=ctm;Password=$pg_password;Database=ctm"
for service in ingest validator trainer registry predictor; do
  secret "ctm-rabbitmq-$service" --from-file=password="$broker/passwords/$service"
done
secret ctm-rabbitmq-definitions --from-file=definitions.json="$broker/definitions.json"
secret ctm-rabbitmq-erlang-cookie --from-file=cookie=.ctm/k8s/erlang-cookie
secret ctm-auth --from-file=api-keys="$keys/api-keys" --from-file=service.key="$keys/service.key"
secret ctm-signing --from-file=registry.pem="$keys/registry.pem" --from-file=registry.pub.pem="$keys/registry.pub.pem"
