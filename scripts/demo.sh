#!/usr/bin/env bash
# ./ctm demo: the whole system on this machine. Brings up PostgreSQL and RabbitMQ, builds, starts the five
# services, streams the sample churn dataset through them (one batch with a broken schema among them, and a few
# rows as plain JSON events on the bus), prints what happened, and leaves the services running for you to query.
# Safe to run twice: each run starts from a fresh demo database and virtual host. ./ctm down stops everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
cd "$root"

config="${CTM_CONFIGURATION:-Release}"
dataset="churn"
vhost="ctm-demo"
database="ctm_demo"
declare -A port=([Ingest]=5101 [Validator]=5102 [Trainer]=5103 [Registry]=5104 [Predictor]=5105)
services=(Ingest Validator Trainer Registry Predictor)
url() { echo "http://127.0.0.1:${port[$1]}"; }

command -v jq >/dev/null 2>&1 || apt_install jq
command -v curl >/dev/null 2>&1 || apt_install curl

say "==> Infrastructure (PostgreSQL, RabbitMQ)"
"$root/scripts/infra.sh" up
eval "$("$root/scripts/infra.sh" env)"

say "==> Building the services (${config})"
for s in "${services[@]}"; do
  dotnet build "services/$s/Ctm.$s.csproj" -c "$config" -nologo -v:quiet -clp:ErrorsOnly || die "building $s failed"
done

say "==> Stopping services from an earlier demo, if any"
mkdir -p .ctm/run .ctm/logs
for s in "${services[@]}"; do
  f=".ctm/run/$s.pid"
  if [ -f "$f" ] && pid_alive "$f"; then stop_pid "$(head -n 1 "$f" | tr -dc '0-9')" 15; fi
  rm -f "$f"
done

say "==> A fresh demo database (${database}) and virtual host (${vhost})"
mgmt="http://127.0.0.1:${CTM_RABBIT_MGMT_PORT}"
psql_admin() { PGPASSWORD=ctm psql -h 127.0.0.1 -p "$CTM_PG_PORT" -U ctm -d postgres -v ON_ERROR_STOP=1 -qtAc "$1"; }
psql_admin "DROP DATABASE IF EXISTS ${database} WITH (FORCE)" >/dev/null
psql_admin "CREATE DATABASE ${database}" >/dev/null
# The broker users and their passwords come from infra.sh (.ctm/broker/passwords/; scripts/rabbitmq/permissions.txt).
broker="$root/.ctm/broker/passwords"
curl -sf -u "ctm-admin:$(cat "$broker/admin")" -X DELETE "$mgmt/api/vhosts/$vhost" >/dev/null 2>&1 || true
"$root/scripts/infra.sh" grant "$vhost"

say "==> Starting the five services"
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=${CTM_PG_PORT};Username=ctm;Password=ctm;Database=${database}"
export RabbitMq__Host=127.0.0.1 RabbitMq__Port="$CTM_RABBIT_PORT" RabbitMq__VirtualHost="$vhost"
for s in "${services[@]}"; do export "Services__$s=$(url "$s")"; done
export Ingest__RowEvents__MaxDelaySeconds=30 Ingest__RowEvents__MaxRows=400
# Promotion signing keys (ECDSA P-256): the Registry signs with the private key, the Predictor verifies with the public one.
# API keys, one per role: every service reads their hashes (Auth:KeysFile) and calls the others with the service key.
keys=$("$root/scripts/keys.sh" "$root/.ctm/keys")
export Auth__KeysFile="$keys/api-keys" Auth__ServiceKeyPath="$keys/service.key"
# The header this script sends as <role>: the key stays in its file and in this process, never on a command line shown to you.
auth() { printf 'Authorization: ApiKey %s' "$(tr -d '\n' <"$keys/$1.key")"; }
declare -A signing=([Registry]="Signing__PrivateKeyPath=$keys/registry.pem" [Predictor]="Signing__PublicKeyPath=$keys/registry.pub.pem")
for s in "${services[@]}"; do
  dll="services/$s/bin/$config/net10.0/Ctm.$s.dll"
  [ -f "$dll" ] || die "$dll was not built"
  # exec: the pid recorded is the service's own, and no shell is left holding this script's output open.
  ( cd "$(dirname "$dll")" && ASPNETCORE_URLS="$(url "$s")" Urls="$(url "$s")" exec env ${signing[$s]:-} RabbitMq__Username="ctm-${s,,}" RabbitMq__PasswordFile="$broker/${s,,}" nohup dotnet "Ctm.$s.dll" >"$root/.ctm/logs/$s.log" 2>&1 </dev/null ) &
  echo $! >".ctm/run/$s.pid"
done
for s in "${services[@]}"; do
  for _ in $(seq 1 240); do
    curl -sf "$(url "$s")/health/ready" >/dev/null 2>&1 && break
    pid_alive ".ctm/run/$s.pid" || die "$s exited during start-up; see .ctm/logs/$s.log:\n$(tail -n 20 ".ctm/logs/$s.log")"
    sleep 0.5
  done
  curl -sf "$(url "$s")/health/ready" >/dev/null || die "$s is not ready after 2 minutes; see .ctm/logs/$s.log"
  say "    $s ready at $(url "$s")   (log: .ctm/logs/$s.log)"
done

say "==> Dataset '${dataset}': label column 'churned', binary classification"
curl -sf -X PUT -H "$(auth operator)" -H 'content-type: application/json' -d '{"labelColumn":"churned","task":"binary"}' "$(url Validator)/v1/datasets/$dataset/config" >/dev/null

say "==> Streaming samples/churn through Ingest"
declare -a batch_ids=()
for f in samples/churn/batch-*.csv; do
  receipt=$(curl -sf -X POST -H "$(auth producer)" -H 'content-type: text/csv' -H "X-Source-Name: $(basename "$f")" --data-binary "@$f" "$(url Ingest)/v1/datasets/$dataset/batches") \
    || die "upload of $f failed"
  id=$(jq -r .batchId <<<"$receipt")
  batch_ids+=("$id")
  say "    $(basename "$f"): batch $id, $(jq -r .rowCount <<<"$receipt") rows, sha256 $(jq -r '.sha256[0:12]' <<<"$receipt")…"
  # Let each batch train before the next arrives, so the demo shows one version per good batch.
  sleep 1
done

say "==> 400 rows as plain JSON events (8 messages of 50 rows) on the '${vhost}' exchange ctm.rows, as a non-.NET upstream would send them"
for chunk in $(seq 0 7); do
  body=$(tail -n +2 samples/churn/batch-04.csv | sed -n "$((chunk * 50 + 1)),$((chunk * 50 + 50))p" \
    | jq -Rnc --arg d "$dataset" --arg id "demo-events-$chunk" '{dataset:$d, eventId:$id, rows:[inputs | split(",") |
        {tenure:(.[0]|tonumber), plan:.[1], region:.[2], monthly_fee:(.[3]|tonumber), support_calls:(.[4]|tonumber), churned:.[5]}]}')
  jq -nc --arg payload "$body" '{properties:{content_type:"application/json"}, routing_key:"", payload:$payload, payload_encoding:"string"}' \
    | curl -sf -u "ctm-rows:$(cat "$broker/rows")" -H 'content-type: application/json' -d @- "$mgmt/api/exchanges/$vhost/ctm.rows/publish" >/dev/null \
    || die "publishing row events through the management API failed"
done

expected=$(( ${#batch_ids[@]} + 1 ))
say "==> Waiting for ${expected} validation decisions and a model trained on every accepted batch"
deadline=$(( $(date +%s) + 240 ))
while :; do
  decisions=$(curl -sf -H "$(auth reader)" "$(url Validator)/v1/datasets/$dataset/batches" || echo '[]')
  accepted=$(jq -c '[.[] | select(.status=="accepted") | .batchId] | sort' <<<"$decisions")
  serving=$(curl -sf -H "$(auth reader)" "$(url Registry)/v1/datasets/$dataset/serving" || echo '{}')
  version=$(jq -r '.version // empty' <<<"$serving")
  lineage='[]'
  [ -n "$version" ] && lineage=$(curl -sf -H "$(auth reader)" "$(url Registry)/v1/datasets/$dataset/versions/$version" | jq -c '.batchIds | sort')
  if [ "$(jq length <<<"$decisions")" -ge "$expected" ] && [ "$lineage" = "$accepted" ]; then
    answered=$(curl -sf -H "$(auth reader)" "$(url Predictor)/v1/models/$dataset" | jq -r '.model_version_status[0].version // empty' || true)
    [ "$answered" = "$version" ] && break
  fi
  [ "$(date +%s)" -lt "$deadline" ] || die "the flow did not complete in 4 minutes; logs are in .ctm/logs/"
  sleep 1
done

echo
echo "Batches"
jq -r '.[] | "  \(.batchId)  \(.status | ascii_upcase)\(if .status=="quarantined" then ":" else "" end)"
  + (if .status=="quarantined" then "\n" + ([.reasons[] | "      - [\(.kind)] \(.description)"] | join("\n")) else "" end)' <<<"$decisions"
echo
echo "Model versions (Registry)"
curl -sf -H "$(auth reader)" "$(url Registry)/v1/datasets/$dataset/versions" | jq -r '.[] |
  "  v\(.version)  parent \(.parentVersion // "-")  trained on \(.batchIds | length) batch(es)  accuracy \(.metrics.accuracy // 0 | . * 1000 | round / 1000)  auc \(.metrics.roc_auc // 0 | . * 1000 | round / 1000)  sha256 \(.sha256[0:12])…"'
echo "  serving: v${version} (generation $(jq -r .generation <<<"$serving"))"
echo
echo "Predictions from the Predictor"
request='{"instances":[
  {"tenure":2,"plan":"basic","region":"eu","monthly_fee":95.0,"support_calls":6},
  {"tenure":58,"plan":"team","region":"us","monthly_fee":20.0,"support_calls":0},
  {"tenure":24,"plan":"pro","region":"apac","monthly_fee":55.5,"support_calls":2}]}'
curl -sf -X POST -H "$(auth reader)" -H 'content-type: application/json' -d "$request" "$(url Predictor)/v1/models/$dataset:predict" \
  | jq -r '"  answered by v\(.model_version)", (.predictions[] | "  \(.label)  p(yes)=\(.probabilities.yes * 1000 | round / 1000)")'
cat <<MSG

API keys, one per role (made by scripts/keys.sh; the services hold only their SHA-256, in $keys/api-keys):
  producer  $keys/producer.key   uploads batches
  reader    $keys/reader.key     queries and predictions
  operator  $keys/operator.key   release, discard, rollback, policies, retrain, model uploads and approvals
Send one as 'Authorization: ApiKey <key>' (or 'X-Api-Key: <key>'); without one the APIs answer 401, with the wrong role 403.
  export CTM_API_KEY=\$(cat $keys/operator.key)     # the CLI (./ctm versions $dataset, ./ctm release ...) reads it from there
  READ="Authorization: ApiKey \$(cat $keys/reader.key)"
  OPERATE="Authorization: ApiKey \$(cat $keys/operator.key)"
The console, $(url Registry)/console, asks once for a key (a reader's to look, an operator's to release or discard).

Ask for more (TensorFlow Serving REST):
  curl -s -X POST $(url Predictor)/v1/models/$dataset:predict -H "\$READ" -H 'content-type: application/json' \\
    -d '{"instances":[{"tenure":12,"plan":"basic","region":"eu","monthly_fee":80,"support_calls":4}]}'
Lineage of the serving version:   curl -s -H "\$READ" $(url Registry)/v1/datasets/$dataset/versions/$version
Why a batch was quarantined:      curl -s -H "\$READ" $(url Validator)/v1/datasets/$dataset/batches
The lineage as a picture:         curl -s -H "\$READ" $(url Registry)/v1/datasets/$dataset/lineage.svg -o lineage.svg
Roll back, declaring batch-04 corrupt (every version it influenced is tainted; the newest clean one serves; the audit log records demo-operator):
  curl -s -X POST $(url Registry)/v1/datasets/$dataset/rollbacks -H "\$OPERATE" -H 'content-type: application/json' \\
    -d '{"corruptBatchId":"${batch_ids[3]}","reason":"upstream sent fees in cents"}'
The services keep running; stop them (and the infrastructure) with: ./ctm down
MSG
