#!/usr/bin/env bash
# ./ctm test [dotnet test args]: starts the infra, builds Ctm.sln once (ONNX Runtime comes with the NuGet restore), runs
# every test project against the real PostgreSQL and RabbitMQ, and ends with one line
# 'N passed, N failed' summed from the TRX files. A project that crashed or did not build counts
# as failed; a run where no test ran exits non-zero.
#   CTM_CONFIGURATION  Release (default) or Debug
#   CTM_TEST_HANG_TIMEOUT  per test project, default 20m: a hung run is killed and counted failed
#   CTM_KEEP_INFRA=1   in CI, leave the infra running afterwards (it is stopped by default there)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

config="${CTM_CONFIGURATION:-Release}"
hang="${CTM_TEST_HANG_TIMEOUT:-20m}"
results="$state/test-results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH: install the .NET 10 SDK"

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
keep=()
for p in "${in_sln[@]}"; do is_test_project "$p" && keep+=("$p"); done
in_sln=("${keep[@]}")
# Test projects that the solution does not list still run (built on their own), with a warning.
extra=()
shopt -s nullglob
for p in tests/*/*.csproj; do
  found=""
  for q in "${in_sln[@]}"; do [ "$q" = "$p" ] && found=1 && break; done
  [ -n "$found" ] || ! is_test_project "$p" || extra+=("$p")
done
shopt -u nullglob
if [ -z "$sln" ]; then
  say "warning: no Ctm.sln: building each test project on its own"
elif [ "${#extra[@]}" -gt 0 ]; then
  say "warning: not in $sln (add them with 'dotnet sln $sln add'): ${extra[*]}"
fi
[ $(( ${#in_sln[@]} + ${#extra[@]} )) -gt 0 ] || die "no test project found under tests/"

rm -rf "$results"
mkdir -p "$results"

total_passed=0 total_failed=0 total_skipped=0
summary=()

# ---------------------------------------------------------------- build once

prebuilt=""
if [ -n "$sln" ] && [ "${#in_sln[@]}" -gt 0 ]; then
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

counter() { # counter NAME LINE: the NAME="N" attribute of a TRX Counters element
  local v
  v="$(printf '%s' "$2" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9][0-9]*' | head -n 1)"
  echo "${v:-0}"
}

run_project() { # run_project PATH NO_BUILD [dotnet test args...]
  local proj="$1" no_build="$2"
  shift 2
  local name trx args rc start
  name="$(basename "$proj" .csproj)"
  trx="$results/$name.trx"
  args=(test "$proj" -c "$config" --nologo --results-directory "$results"
        --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal"
        --blame-hang-timeout "$hang" --blame-hang-dump-type none)
  if [ -n "$no_build" ]; then args+=(--no-build); else args+=("${msbuild_flags[@]}"); fi
  say ""
  say "=== $name"
  start=$SECONDS
  set +e
  dotnet "${args[@]}" "$@" 2>&1 | tee "$results/$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  local passed=0 failed=0 skipped=0 note=""
  if [ -f "$trx" ]; then
    local line
    line="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)"
    passed="$(counter passed "$line")"
    failed=$(( $(counter failed "$line") + $(counter error "$line") + $(counter timeout "$line") + $(counter aborted "$line") ))
    # xunit's skipped tests are in total but not in executed; notExecuted stays 0.
    skipped=$(( $(counter total "$line") - $(counter executed "$line") ))
    [ "$skipped" -ge "$(counter notExecuted "$line")" ] || skipped="$(counter notExecuted "$line")"
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
      failed=1; note=" (dotnet test exited $rc with no failed test recorded: crash, hang or build error; counted as 1 failed, see $results/$name.log)"
    fi
  elif [ "$rc" -ne 0 ]; then
    failed=1; note=" (no results: did not build or crashed, exit $rc; counted as 1 failed, see $results/$name.log)"
  else
    note=" (no results file: no test matched?)"
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
  summary+=("$(printf '%-34s passed %d, failed %d, skipped %d in %ds%s' "$name:" "$passed" "$failed" "$skipped" $((SECONDS - start)) "$note")")
}

for p in "${in_sln[@]}"; do run_project "$p" "$prebuilt" "$@"; done
for p in "${extra[@]}"; do run_project "$p" "" "$@"; done

# ---------------------------------------------------------------- report

echo ""
echo "Test results ($config; TRX and logs in ${results#"$root"/}):"
for s in "${summary[@]}"; do echo "  $s"; done
if [ "$total_passed" -eq 0 ] && [ "$total_failed" -eq 0 ]; then
  echo "  no test ran: check the filter ($*) or the test projects"
fi
if [ "$total_skipped" -gt 0 ]; then
  echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
else
  echo "$total_passed passed, $total_failed failed"
fi
[ "$total_failed" -eq 0 ] && [ $((total_passed + total_failed)) -gt 0 ]
