# Running one test project and summing the results, for scripts/test.sh. Source it after lib.sh; don't run it.
# Test projects are xunit.v3 executables on Microsoft.Testing.Platform (global.json selects it for dotnet test);
# each writes a TRX report (Microsoft.Testing.Extensions.TrxReport) that is summed here.
# Expects: config, results, hang, msbuild_flags (array); keeps totals in total_passed, total_failed, total_skipped
# and one line per project in summary (array).
# shellcheck shell=bash
# shellcheck disable=SC2154 # config, results, hang and msbuild_flags are set by the script that sources this file

total_passed=0 total_failed=0 total_skipped=0
summary=()

counter() { # counter NAME LINE: the NAME="N" attribute of a TRX Counters element
  local v
  v="$(printf '%s' "$2" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9][0-9]*' | head -n 1)"
  echo "${v:-0}"
}

# trx_counts FILE: prints 'total passed failed skipped' from a TRX file's Counters element.
trx_counts() {
  local line failed skipped
  line="$(grep -o '<Counters [^>]*>' "$1" | head -n 1 || true)"
  failed=$(( $(counter failed "$line") + $(counter error "$line") + $(counter timeout "$line") + $(counter aborted "$line") ))
  # Skipped tests are counted in total but not in executed (notExecuted too, on Microsoft.Testing.Platform).
  skipped=$(( $(counter total "$line") - $(counter executed "$line") ))
  [ "$skipped" -ge "$(counter notExecuted "$line")" ] || skipped="$(counter notExecuted "$line")"
  echo "$(counter total "$line") $(counter passed "$line") $failed $skipped"
}

# The fast tier: test projects whose .csproj says <CtmTestTier>fast</CtmTestTier> (tests/README.md): the *.Fast.Tests
# projects (one service in-process) and the libraries' unit tests. Read with grep: evaluating a project costs seconds.
is_fast() { grep -q '<CtmTestTier>fast</CtmTestTier>' "$1" 2>/dev/null; }

fast_tier() { # fast_tier PATH...: the fast-tier projects among them, one a line
  local p
  for p in "$@"; do is_fast "$p" && echo "$p"; done
  return 0
}

fast_first() { # fast_first PATH...: the same projects, the fast tier first, each tier in the order given
  local p
  fast_tier "$@"
  for p in "$@"; do is_fast "$p" || echo "$p"; done
  return 0
}

run_project() { # run_project PATH NO_BUILD [dotnet test args...]
  local proj="$1" no_build="$2"
  shift 2
  local name trx args rc start
  name="$(basename "$proj" .csproj)"
  trx="$results/$name.trx"
  args=(test --project "$proj" -c "$config" --no-build --results-directory "$results"
        --report-trx --report-trx-filename "$name.trx" --timeout "$hang" --no-ansi --no-progress)
  say ""
  say "=== $name"
  start=$SECONDS
  : >"$results/$name.log"
  set +e
  rc=0
  if [ -z "$no_build" ]; then
    # dotnet test on the platform takes no MSBuild switches, so a project builds here first.
    dotnet build "$proj" -c "$config" -nologo -v:minimal "${msbuild_flags[@]}" 2>&1 | tee -a "$results/$name.log"
    rc=${PIPESTATUS[0]}
  fi
  if [ "$rc" -eq 0 ]; then
    dotnet "${args[@]}" "$@" 2>&1 | tee -a "$results/$name.log"
    rc=${PIPESTATUS[0]}
  fi
  set -e
  local total=0 passed=0 failed=0 skipped=0 note=""
  if [ -f "$trx" ]; then
    read -r total passed failed skipped < <(trx_counts "$trx")
    if [ "$rc" -eq 8 ] && [ "$total" -eq 0 ]; then
      # Microsoft.Testing.Platform's exit code 8: zero tests ran (a filter that matches nothing here).
      note=" (no test matched)"
    elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
      failed=1; note=" (dotnet test exited $rc with no failed test recorded: crash, timeout or build error; counted as 1 failed, see $results/$name.log)"
    fi
  elif [ "$rc" -eq 8 ]; then
    note=" (no test matched)"
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

# report [filter args]: the per-project lines, then the one closing line 'N passed, N failed'; fails when a test
# failed or none ran.
report() {
  echo ""
  echo "Test results ($config; TRX and logs in ${results#"$root"/}):"
  local s
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
}
