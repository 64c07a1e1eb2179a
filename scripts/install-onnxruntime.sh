#!/usr/bin/env bash
# Fetches the official ONNX Runtime CPU build (1.30.0) from the npm package onnxruntime-node,
# checks its SHA-256 and keeps it under .ctm/onnxruntime (ignored by git). Idempotent.
# CTM_ONNXRUNTIME_LIB may point at another copy (a CUDA-enabled build): then nothing is fetched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="1.30.0"
sha256="ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"
dest="$root/.ctm/onnxruntime"
lib="$dest/libonnxruntime.so.1"

if [ -n "${CTM_ONNXRUNTIME_LIB:-}" ]; then
  [ -f "$CTM_ONNXRUNTIME_LIB" ] || { echo "CTM_ONNXRUNTIME_LIB=$CTM_ONNXRUNTIME_LIB does not exist" >&2; exit 1; }
  exit 0
fi
if [ -f "$lib" ] && echo "$sha256  $lib" | sha256sum -c --status; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed to fetch ONNX Runtime (apt-get install npm)" >&2; exit 1; }
echo "Fetching ONNX Runtime $version (npm package onnxruntime-node)..."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "onnxruntime-node@$version" >/dev/null 2>&1)
tar -xzf "$work/onnxruntime-node-$version.tgz" -C "$work" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
if ! echo "$sha256  $work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | sha256sum -c --status; then
  echo "ONNX Runtime library hash mismatch: expected $sha256" >&2
  exit 1
fi
mkdir -p "$dest"
install -m 0755 "$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$lib.tmp"
mv "$lib.tmp" "$lib"
echo "ONNX Runtime $version installed at $lib"
