#!/usr/bin/env bash
# Serving benchmark of record: the real Predictor process (beside the Registry it loads from) against a bare ASP.NET Core
# minimal API, with wrk and instances drawn at random per request.
# Usage: bench/Ctm.Bench.Serving/run.sh [--duration 10] [--rounds 3] [--connections 64] [--threads 2]
# Needs PostgreSQL and RabbitMQ (eval "$(./ctm infra env)"), as the process-level tests do.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk is missing: install the Debian package (apt-get install -y wrk)" >&2
  exit 1
fi
dotnet build services/Registry -c Release -v quiet -nologo
dotnet build services/Predictor -c Release -v quiet -nologo
dotnet build bench/Ctm.Bench.Serving -c Release -v quiet -nologo
exec dotnet bench/Ctm.Bench.Serving/bin/Release/net10.0/Ctm.Bench.Serving.dll "$@"
