#!/usr/bin/env bash
# Serving benchmark of record: the real Predictor process (beside the Registry it loads from) against a bare ASP.NET Core
# minimal API, with wrk and instances drawn at random per request.
# Usage: bench/Ctm.Bench.Serving/run.sh [--duration 10] [--rounds 3] [--connections 64] [--threads 2] [--targets ...]
#        [--baseline-commit REV | --baseline-dir DIR]
# --baseline-commit builds the Predictor of REV (git archive into $TMPDIR/ctm-baseline-<sha>, kept for the next run) and
# runs it beside this checkout's in the same rounds (see Program.cs); --baseline-dir names such a build directly.
# Needs PostgreSQL and RabbitMQ (eval "$(./ctm infra env)"), as the process-level tests do.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk is missing: install the Debian package (apt-get install -y wrk)" >&2
  exit 1
fi
args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--baseline-commit" ] && [ $# -gt 1 ]; then
    sha=$(git rev-parse --verify "$2^{commit}")
    dir="${TMPDIR:-/tmp}/ctm-baseline-$sha"
    if [ ! -f "$dir/services/Predictor/bin/Release/net10.0/Ctm.Predictor.dll" ]; then
      rm -rf "$dir" && mkdir -p "$dir"
      git archive "$sha" | tar -x -C "$dir"
      dotnet build "$dir/services/Predictor" -c Release -v quiet -nologo
    fi
    args+=(--baseline-dir "$dir/services/Predictor/bin/Release/net10.0" --baseline-commit-sha "$sha")
    shift 2
  else
    args+=("$1")
    shift
  fi
done
dotnet build services/Registry -c Release -v quiet -nologo
dotnet build services/Predictor -c Release -v quiet -nologo
dotnet build bench/Ctm.Bench.Serving -c Release -v quiet -nologo
exec dotnet bench/Ctm.Bench.Serving/bin/Release/net10.0/Ctm.Bench.Serving.dll "${args[@]}"
