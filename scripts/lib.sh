# Shared helpers for the project's bash scripts. Source it; don't run it.
# shellcheck shell=bash

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file; CTM_STATE_DIR: another folder (a throwaway node in a test)
state="${CTM_STATE_DIR:-$root/.ctm}"

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo when it is there.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@" || die "'sudo $*' failed: run it yourself once as root, then retry"
  else
    die "'$*' needs root and sudo is not installed: run it as root, then retry"
  fi
}

apt_updated=""
# Installs Debian packages that are missing. Daemons are not started by the install
# (policy-rc.d), so nothing takes our ports behind our back.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get here: install them by hand"
  say "Installing ${missing[*]} (Debian packages)..."
  local policy="/usr/sbin/policy-rc.d" added_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by ctm while installing packages; removed afterwards\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 0755 "$policy"
    added_policy=1
  fi
  local rc=0
  {
    if [ -z "$apt_updated" ]; then
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
      apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
  } >&2 || rc=$?
  [ -n "$added_policy" ] && as_root rm -f "$policy"
  [ "$rc" -eq 0 ] || die "apt-get install ${missing[*]} failed (exit $rc): see the messages above"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when process $1 is alive. A killed process whose parent never reaps it stays a zombie,
# which kill -0 still finds: that one counts as dead.
proc_alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}

# True when the process in pid file $1 (first line) is alive.
pid_alive() {
  [ -s "$1" ] || return 1
  proc_alive "$(head -n 1 "$1" | tr -dc '0-9')"
}

# Waits up to $1 seconds for command "${@:2}" to succeed.
wait_for() {
  local timeout="$1" start
  shift
  start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    [ $((SECONDS - start)) -ge "$timeout" ] && return 1
    sleep 1
  done
}

# Stops process $1: TERM, up to $2 seconds (default 30) to exit, then KILL.
stop_pid() {
  local pid="$1" timeout="${2:-30}" start=$SECONDS
  proc_alive "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  while proc_alive "$pid"; do
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      say "pid $pid did not stop within $timeout s: killing it"
      kill -9 "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.5
  done
}
