#!/usr/bin/env bash
# ./ctm test [--fast] [dotnet test args]: starts the infra, builds Ctm.sln once (ONNX Runtime comes with the NuGet restore),
# runs every test project (xunit.v3 on Microsoft.Testing.Platform) against the real PostgreSQL and RabbitMQ, and ends
# with one line 'N passed, N failed' summed from the TRX files (scripts/test-lib.sh). A project that crashed or did not
# build counts as failed; a run where no test ran exits non-zero. Two tiers, told apart by <CtmTestTier>fast</CtmTestTier>
# in a project's .csproj: the fast tier (tests/*.Fast.Tests: one service in-process, MassTransit's test harness for the
# bus, a real database; and the libraries' unit tests; seconds a project) runs first, then the rest (the process-level suites that start the five services). --fast runs the fast tier
# alone, building only its projects and what they reference (not the solution). Other args go to every project's test run, e.g.
# --filter "FullyQualifiedName~Ingest", --filter-class "Ctm.Validator.Tests.*", --filter-query "/*/*/*Quarantine*/*".
#   CTM_CONFIGURATION  Release (default) or Debug
#   CTM_TEST_HANG_TIMEOUT  per test project, default 20m (the platform's --timeout): a hung run is stopped and counted failed
#   CTM_KEEP_INFRA=1   in CI, leave the infra running afterwards (it is stopped by default there)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/test-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/test-lib.sh"
cd "$root"

config="${CTM_CONFIGURATION:-Release}"
hang="${CTM_TEST_HANG_TIMEOUT:-20m}"
results="$state/test-results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH: install the .NET 10 SDK"

# --fast (anywhere among the args) selects the fast tier; every other arg goes to dotnet test.
fast_only=""
args=()
for a in "$@"; do
  if [ "$a" = --fast ]; then fast_only=1; else args+=("$a"); fi
done
set -- "${args[@]}"

# Build servers outlive the run; in CI nothing may be left holding the log pipe.
msbuild_flags=(-nodeReuse:false)
[ -n "${CI:-}" ] && msbuild_flags+=(-p:UseSharedCompilation=false)

# ---------------------------------------------------------------- infra

infra_was_up=""
"$root/scripts/infra.sh" status >/dev/null 2>&1 && infra_was_up=1
"$root/scripts/infra.sh" up
if [ -n "${CI:-}" ] && [ -z "$infra_was_up" ] && [ "${CTM_KEEP_INFRA:-}" != 1 ]; then
  trap '"$root/scripts/infra.sh" down >/dev/null 2>&1 || true' EXIT
fi
eval "$("$root/scripts/infra.sh" env)"
export CTM_TEST_POSTGRES CTM_TEST_RABBITMQ CTM_TEST_RABBITMQ_MANAGEMENT

# ---------------------------------------------------------------- what to run

sln=""
for f in Ctm.sln Ctm.slnx; do [ -f "$f" ] && { sln="$f"; break; }; done

in_sln=()
if [ -n "$sln" ]; then
  # shellcheck disable=SC1003 # a backslash, for Windows-style paths
  mapfile -t in_sln < <(dotnet sln "$sln" list 2>/dev/null | tr '\\' '/' | sed 's/\r$//' | grep -E '^tests/.*\.csproj$' || true)
fi
# Support libraries under tests/ set IsTestProject=false. One that cannot even be evaluated is
# kept, so that its failure shows and counts.
is_test_project() {
  local v
  v="$(dotnet msbuild "$1" -getProperty:IsTestProject 2>/dev/null | tr -d '[:space:]')" || true
  [ "$v" != false ]
}
# With --fast only the fast tier's projects are looked at (evaluating every project costs seconds each).
in_tier() { [ -z "$fast_only" ] || is_fast "$1"; }
keep=()
for p in "${in_sln[@]}"; do in_tier "$p" && is_test_project "$p" && keep+=("$p"); done
in_sln=("${keep[@]}")
# Test projects that the solution does not list still run (built on their own), with a warning.
extra=()
shopt -s nullglob
for p in tests/*/*.csproj; do
  found=""
  for q in "${in_sln[@]}"; do [ "$q" = "$p" ] && found=1 && break; done
  [ -n "$found" ] || ! in_tier "$p" || ! is_test_project "$p" || extra+=("$p")
done
shopt -u nullglob
if [ -z "$sln" ]; then
  say "warning: no Ctm.sln: building each test project on its own"
elif [ "${#extra[@]}" -gt 0 ]; then
  say "warning: not in $sln (add them with 'dotnet sln $sln add'): ${extra[*]}"
fi
# The fast tier first: its failures show in seconds.
mapfile -t in_sln < <(fast_first "${in_sln[@]}")
mapfile -t extra < <(fast_first "${extra[@]}")
[ $(( ${#in_sln[@]} + ${#extra[@]} )) -gt 0 ] || die "no ${fast_only:+fast-tier }test project found under tests/"

rm -rf "$results"
mkdir -p "$results"

# ---------------------------------------------------------------- build once

# With --fast each fast project builds on its own (run_project): only its service and what that references, not the
# solution. (A solution filter would build the references outside it in their default configuration, not this one.)
prebuilt=""
if [ -n "$sln" ] && [ "${#in_sln[@]}" -gt 0 ] && [ -z "$fast_only" ]; then
  say "Building $sln ($config)..."
  set +e
  dotnet build "$sln" -c "$config" -nologo -v:minimal "${msbuild_flags[@]}" 2>&1 | tee "$results/build.log"
  build_rc=${PIPESTATUS[0]}
  set -e
  if [ "$build_rc" -eq 0 ]; then
    prebuilt=1
  else
    # Something in the solution does not build: that is a failure even if every test passes.
    # Each test project then builds on its own, so one that cannot build counts as failed too.
    summary+=("$(printf '%-34s %s' "build $sln:" "FAILED (exit $build_rc, see $results/build.log), counted as 1 failed")")
    total_failed=$((total_failed + 1))
  fi
fi

# ---------------------------------------------------------------- run

for p in "${in_sln[@]}"; do run_project "$p" "$prebuilt" "$@"; done
for p in "${extra[@]}"; do run_project "$p" "" "$@"; done

# ---------------------------------------------------------------- report

report "$@"
