# Shared helpers for the project's bash scripts. Source it; don't run it.
# shellcheck shell=bash

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.ctm"

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

# True when the process in pid file $1 is alive.
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
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
