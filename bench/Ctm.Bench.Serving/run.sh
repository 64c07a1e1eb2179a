#!/usr/bin/env bash
# Serving benchmark: bare ASP.NET Core echo vs the Predictor's static and dynamic paths, with wrk on loopback.
# Usage: bench/Ctm.Bench.Serving/run.sh [--duration 10] [--connections 64] [--threads 2]
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk is missing: installing the Debian package" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi
fi
dotnet build bench/Ctm.Bench.Serving -c Release -v quiet -nologo
exec dotnet bench/Ctm.Bench.Serving/bin/Release/net10.0/Ctm.Bench.Serving.dll "$@"
