#!/usr/bin/env bash
# Starts, stops and reports the real PostgreSQL and RabbitMQ that the tests and the demo use.
#   scripts/infra.sh up|down|status|env
# With a Docker engine: the postgres and rabbitmq services of docker-compose.yml.
# Without one (these machines): Debian's postgresql and rabbitmq-server as local processes on
# loopback, installed if missing, every byte of state under .ctm/ (git-ignored).
# Ports: CTM_PG_PORT (55432), CTM_RABBIT_PORT (5672), CTM_RABBIT_MGMT_PORT (15672).
# CTM_INFRA=docker|local forces a mode.
# RabbitMQ has no guest: a user per service and producer class (ctm-<role>, scripts/rabbitmq/permissions.txt) and
# ctm-admin (administrator: this script and the tests only), with generated passwords in .ctm/broker/passwords/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_port="${CTM_PG_PORT:-55432}"
rabbit_port="${CTM_RABBIT_PORT:-5672}"
mgmt_port="${CTM_RABBIT_MGMT_PORT:-15672}"
rabbit_node="${CTM_RABBIT_NODE:-ctm@localhost}"
mode_file="$state/infra.mode"
rdir="$state/rabbitmq"
rbin="/usr/lib/rabbitmq/bin"

usage() {
  cat >&2 <<EOF
usage: scripts/infra.sh up|down|status|env|grant VHOST|secrets
  up      start PostgreSQL (127.0.0.1:$pg_port) and RabbitMQ (127.0.0.1:$rabbit_port, management $mgmt_port);
          'up rabbitmq' only RabbitMQ, local mode (a throwaway node: CTM_STATE_DIR, CTM_RABBIT_NODE and the ports)
  down    stop what 'up' started ('down rabbitmq': only RabbitMQ)
  status  report both
  env     print export lines for the connection settings: eval "\$(./ctm infra env)"
  grant   create a RabbitMQ virtual host and give every broker user its permissions there (the demo's, a deployment's)
  secrets only write the broker users' passwords and the compose definitions (.ctm/broker/)
EOF
  exit 2
}

# ---------------------------------------------------------------- mode

docker_engine() { command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; }
# docker-compose.yml uses the Compose Specification (top-level name): Compose v2, 'docker compose'.
has_compose() { docker compose version >/dev/null 2>&1; }

compose() {
  has_compose || die "'docker compose' (Compose v2) is not installed: install the compose plugin, or run with CTM_INFRA=local"
  docker compose -f "$root/docker-compose.yml" "$@"
}

# The mode 'up' should use.
choose_mode() {
  case "${CTM_INFRA:-}" in
    docker|local) echo "$CTM_INFRA"; return ;;
    "") ;;
    *) die "CTM_INFRA must be docker or local, not '$CTM_INFRA'" ;;
  esac
  if docker_engine; then
    if has_compose; then echo docker; return; fi
    say "a Docker engine answers but 'docker compose' is missing: using local processes"
  fi
  echo local
}

# The mode a previous 'up' used (local when none ran).
recorded_mode() {
  if [ -n "${CTM_INFRA:-}" ]; then echo "$CTM_INFRA"
  elif [ -s "$mode_file" ]; then cat "$mode_file"
  else echo local
  fi
}

# ---------------------------------------------------------------- host needs

# What the tests and services need on the host whatever runs the servers.
ensure_host_tools() {
  local pkgs=()
  command -v curl >/dev/null 2>&1 || pkgs+=(curl)
  # The console page's tests drive Debian's chromium through Playwright (no browser download).
  [ -x /usr/bin/chromium ] || pkgs+=(chromium)
  [ "${#pkgs[@]}" -eq 0 ] || apt_install "${pkgs[@]}"
  # ONNX Runtime's string operators fail at model load without this locale.
  if ! locale -a 2>/dev/null | grep -qix 'en_US\.utf-\?8'; then
    apt_install locales
    say "Generating the en_US.UTF-8 locale..."
    if [ -f /etc/locale.gen ]; then
      grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen ||
        as_root sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
      grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' | as_root tee -a /etc/locale.gen >/dev/null
      as_root locale-gen >&2
    else
      as_root localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
    fi
    locale -a 2>/dev/null | grep -qix 'en_US\.utf-\?8' || die "could not generate the en_US.UTF-8 locale: run 'localedef -i en_US -f UTF-8 en_US.UTF-8' as root"
  fi
}

# ---------------------------------------------------------------- local PostgreSQL

pg_bin() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || return 1
  echo "$dir"
}

# initdb refuses root: as root, the server runs as the postgres user on a folder it owns.
pg_as() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The data folder: .ctm/pg, or, when postgres cannot reach the checkout, a folder in postgres's
# home named after the checkout (.ctm/pg.datadir points at it).
pg_datadir() {
  if [ -s "$state/pg.datadir" ]; then cat "$state/pg.datadir"; else echo "$state/pg"; fi
}

pg_prepare_datadir() {
  local dir
  dir="$(pg_datadir)"
  mkdir -p "$state"
  if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$dir" && chmod 700 "$dir"
    return
  fi
  getent passwd postgres >/dev/null || die "the postgres user is missing: reinstall the postgresql package (apt-get install --reinstall postgresql-common)"
  mkdir -p "$dir"
  chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    local home
    home="$(getent passwd postgres | cut -d: -f6)"
    dir="$home/ctm-$(printf '%s' "$root" | sha256sum | cut -c1-12)/pg"
    say "postgres cannot reach $root: keeping PostgreSQL's data in $dir"
    mkdir -p "$dir"
    chown -R postgres:postgres "$(dirname "$dir")"
    chmod 700 "$dir"
    echo "$dir" >"$state/pg.datadir"
  fi
}

# postmaster.pid's first line is the server's pid; after a kill -9 the file stays behind.
pg_running() {
  local dir
  dir="$(pg_datadir)"
  [ -f "$dir/PG_VERSION" ] && pid_alive "$dir/postmaster.pid"
}

pg_ready() {
  local bin
  bin="$(pg_bin)" || return 1
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -U ctm -d postgres
}

# Live (non-zombie) processes whose working folder is $1: every PostgreSQL process works in its data folder.
procs_in_dir() {
  local d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [ "$(readlink "$d/cwd" 2>/dev/null)" = "$1" ] && proc_alive "$pid" && echo "$pid"
  done
  return 0
}

no_procs_in_dir() { [ -z "$(procs_in_dir "$1")" ]; }

# After a kill -9 the postmaster may linger as a zombie, and PostgreSQL refuses to start while the
# pid in postmaster.pid answers kill -0. Once no process of the old server is left, the lock is stale.
pg_clear_stale_lock() {
  local dir="$1"
  [ -f "$dir/postmaster.pid" ] || return 0
  pid_alive "$dir/postmaster.pid" && return 0
  local real
  real="$(cd "$dir" && pwd -P)"
  wait_for 30 no_procs_in_dir "$real" ||
    die "processes of a crashed PostgreSQL still run in $dir ($(procs_in_dir "$real" | tr '\n' ' ')): stop them, then retry"
  say "Removing the stale $dir/postmaster.pid (its server is gone)"
  rm -f "$dir/postmaster.pid"
  local lock
  for lock in "$dir"/.s.PGSQL.*.lock; do
    [ -f "$lock" ] || continue
    pid_alive "$lock" || rm -f "$lock" "${lock%.lock}"
  done
}

pg_up() {
  pg_bin >/dev/null || apt_install postgresql
  local bin dir
  bin="$(pg_bin)" || die "PostgreSQL's binaries are not under /usr/lib/postgresql/*/bin after installing: apt-get install --reinstall postgresql"
  pg_prepare_datadir
  dir="$(pg_datadir)"
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "Initialising PostgreSQL in $dir..."
    pg_as "$bin/initdb" -D "$dir" -A trust -U ctm -E UTF8 --locale=C >"$state/pg-initdb.log" 2>&1 ||
      die "initdb failed: see $state/pg-initdb.log"
  fi
  if pg_running; then
    wait_for 30 pg_ready || die "PostgreSQL runs on $dir but does not answer on 127.0.0.1:$pg_port (started with another CTM_PG_PORT?): run './ctm infra down' then './ctm infra up'"
    say "PostgreSQL already running on 127.0.0.1:$pg_port"
    return
  fi
  pg_clear_stale_lock "$dir"
  port_open "$pg_port" && die "port $pg_port is taken by another program: stop it, or choose another port with CTM_PG_PORT"
  # A unix socket path is limited to about 100 bytes; TCP is what we use anyway.
  local sockdir="$dir"
  [ $((${#dir} + 20)) -lt 100 ] || sockdir=""
  say "Starting PostgreSQL on 127.0.0.1:$pg_port..."
  [ -f "$dir/server.log" ] && mv -f "$dir/server.log" "$dir/server.log.prev"
  if ! pg_as "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 120 \
      -o "-p $pg_port -k '$sockdir' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" \
      start </dev/null >/dev/null 2>&1; then
    tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
    die "PostgreSQL did not start: see $dir/server.log"
  fi
  wait_for 30 pg_ready || die "PostgreSQL started but does not answer on 127.0.0.1:$pg_port: see $dir/server.log"
}

pg_down() {
  local bin dir
  bin="$(pg_bin)" || return 0
  dir="$(pg_datadir)"
  [ -f "$dir/PG_VERSION" ] || return 0
  if pg_running; then
    say "Stopping PostgreSQL..."
    pg_as "$bin/pg_ctl" -D "$dir" -m fast -w -t 120 stop </dev/null >/dev/null 2>&1 ||
      die "pg_ctl stop failed: see $dir/server.log"
  fi
}

pg_status() {
  if pg_running && pg_ready; then
    echo "postgres: running (local, 127.0.0.1:$pg_port, data $(pg_datadir))"
  elif pg_running; then
    echo "postgres: running but not answering on 127.0.0.1:$pg_port (data $(pg_datadir))"; return 1
  else
    echo "postgres: stopped"; return 1
  fi
}

# ---------------------------------------------------------------- broker identities

broker_dir="$state/broker"
perm_file="$root/scripts/rabbitmq/permissions.txt"

# The roles of permissions.txt, in file order.
broker_roles() { awk '!/^#/ && NF == 3 && !seen[$1]++ { print $1 }' "$perm_file"; }

# broker_perm ROLE tags|configure|write|read: the value; '-' is none ('' for tags, '^$' for a permission).
broker_perm() {
  awk -v r="$1" -v k="$2" '!/^#/ && NF == 3 && $1 == r && $2 == k { print ($3 != "-" ? $3 : (k == "tags" ? "" : "^$")) }' "$perm_file"
}

# The role's password, generated once. The folder is private; the files are readable so that docker compose can
# mount them into containers whose process runs as another user.
broker_password() {
  local f="$broker_dir/passwords/$1"
  if [ ! -s "$f" ]; then
    mkdir -p "$broker_dir/passwords"
    chmod 700 "$broker_dir" "$broker_dir/passwords"
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f.tmp"
    mv -f "$f.tmp" "$f"
  fi
  chmod 644 "$f"
  cat "$f"
}

json_string() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }

# RabbitMQ's password_hash: base64(salt + sha256(salt + password)), salt 4 random bytes.
rabbit_hash() {
  local salt
  salt="$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  { printf '%s' "$salt" | xxd -r -p
    { printf '%s' "$salt" | xxd -r -p; printf '%s' "$1"; } | sha256sum | cut -d' ' -f1 | xxd -r -p
  } | base64 -w0
}

# The definitions docker compose's RabbitMQ loads at its first boot (load_definitions: no guest is created then): the
# users with their passwords' salted hashes (never the passwords) and their permissions on '/'.
broker_definitions() {
  local role out="$broker_dir/definitions.json" users="" perms="" sep=""
  for role in admin $(broker_roles); do
    local tags="administrator" c=".*" w=".*" r=".*"
    if [ "$role" != admin ]; then
      tags="$(broker_perm "$role" tags)" c="$(broker_perm "$role" configure)" w="$(broker_perm "$role" write)" r="$(broker_perm "$role" read)"
    fi
    users+="$sep{\"name\":$(json_string "ctm-$role"),\"password_hash\":\"$(rabbit_hash "$(broker_password "$role")")\",\"hashing_algorithm\":\"rabbit_password_hashing_sha256\",\"tags\":$(json_string "$tags")}"
    perms+="$sep{\"user\":$(json_string "ctm-$role"),\"vhost\":\"/\",\"configure\":$(json_string "$c"),\"write\":$(json_string "$w"),\"read\":$(json_string "$r")}"
    sep=","
  done
  printf '{"users":[%s],"vhosts":[{"name":"/"}],"permissions":[%s]}\n' "$users" "$perms" >"$out.tmp"
  chmod 644 "$out.tmp"
  mv -f "$out.tmp" "$out"
}

cmd_secrets() {
  command -v xxd >/dev/null 2>&1 || apt_install xxd
  local role
  for role in admin $(broker_roles); do broker_password "$role" >/dev/null; done
  broker_definitions
  say "broker passwords in $broker_dir/passwords/, compose definitions in $broker_dir/definitions.json"
}

# The administrator's credentials; guest's only while a node made by an older infra.sh has no users yet.
admin_auth() {
  if [ -s "$broker_dir/passwords/admin" ]; then echo "ctm-admin:$(cat "$broker_dir/passwords/admin")"; else echo "guest:guest"; fi
}

# ---------------------------------------------------------------- local RabbitMQ

# The Debian wrapper (/usr/sbin/rabbitmq-server) su's to the rabbitmq user, which then needs to
# own our data and the cookie lives in /var/lib/rabbitmq. Calling the scripts it wraps runs the
# node as us, with every file under .ctm/rabbitmq (HOME too, for the Erlang cookie).
rabbit() {
  (
    export HOME="$rdir" LC_ALL=C.UTF-8 LANG=C.UTF-8
    export RABBITMQ_NODENAME="$rabbit_node"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$rabbit_port"
    export RABBITMQ_DIST_PORT=$((rabbit_port + 20000))
    export RABBITMQ_MNESIA_BASE="$rdir/mnesia" RABBITMQ_LOG_BASE="$rdir/log"
    export RABBITMQ_PID_FILE="$rdir/rabbitmq.pid"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$rdir/enabled_plugins"
    export RABBITMQ_CONFIG_FILE="$rdir/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$rdir/advanced.config"
    export RABBITMQ_CONF_ENV_FILE="$rdir/rabbitmq-env.conf"
    export ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    exec "$rbin/$1" "${@:2}"
  )
}

# The pid file guard keeps the CLI from starting an epmd when no node of ours runs.
rabbit_ping() {
  pid_alive "$rdir/rabbitmq.pid" && rabbit rabbitmqctl -q -n "$rabbit_node" status >/dev/null 2>&1
}
# On a node's first start only guest answers (the users come after); afterwards only ctm-admin does.
mgmt_ready() {
  curl -sf -m 5 -u "$(admin_auth)" "http://127.0.0.1:$mgmt_port/api/overview" >/dev/null 2>&1 ||
    curl -sf -m 5 -u guest:guest "http://127.0.0.1:$mgmt_port/api/overview" >/dev/null 2>&1
}
rabbit_ready() { rabbit_ping && mgmt_ready; }

rabbit_write_config() {
  mkdir -p "$rdir/mnesia" "$rdir/log"
  if [ ! -s "$rdir/.erlang.cookie" ]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F' >"$rdir/.erlang.cookie")
  fi
  chmod 400 "$rdir/.erlang.cookie"
  echo '[rabbitmq_management].' >"$rdir/enabled_plugins"
  : >"$rdir/rabbitmq-env.conf"
  echo '[].' >"$rdir/advanced.config"
  cat >"$rdir/rabbitmq.conf" <<EOF
# written by scripts/infra.sh on every 'up'
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt_port
loopback_users.guest = true
log.console = false
log.file.level = info
disk_free_limit.absolute = 200MB
EOF
}

rabbit_up() {
  [ -x "$rbin/rabbitmq-server" ] || apt_install rabbitmq-server
  [ -x "$rbin/rabbitmq-server" ] || die "$rbin/rabbitmq-server is missing after installing: apt-get install --reinstall rabbitmq-server"
  rabbit_write_config
  if rabbit_ping; then
    wait_for 60 mgmt_ready || die "RabbitMQ node $rabbit_node runs but its management API does not answer on 127.0.0.1:$mgmt_port: run './ctm infra down' then './ctm infra up'"
    say "RabbitMQ already running on 127.0.0.1:$rabbit_port (management $mgmt_port)"
    rabbit_users
    return
  fi
  # A node killed with -9 leaves its pid file; a live one that lost its cookie would still hold it.
  if pid_alive "$rdir/rabbitmq.pid"; then
    say "Stopping an unresponsive RabbitMQ (pid $(cat "$rdir/rabbitmq.pid"))..."
    stop_pid "$(head -n 1 "$rdir/rabbitmq.pid" | tr -dc '0-9')"
  fi
  rm -f "$rdir/rabbitmq.pid"
  local p
  for p in "$rabbit_port" "$mgmt_port" $((rabbit_port + 20000)); do
    port_open "$p" && die "port $p is taken by another program (a system RabbitMQ? try 'rabbitmqctl shutdown' or 'service rabbitmq-server stop'): stop it, or choose other ports with CTM_RABBIT_PORT / CTM_RABBIT_MGMT_PORT"
  done
  epmd -names >/dev/null 2>&1 || touch "$rdir/epmd.ours"
  say "Starting RabbitMQ node $rabbit_node on 127.0.0.1:$rabbit_port (management $mgmt_port)..."
  rabbit rabbitmq-server -detached </dev/null >>"$rdir/log/startup.log" 2>&1 ||
    die "rabbitmq-server did not start: see $rdir/log/"
  # await_startup can return before the node is up: poll the node and the management API.
  local start=$SECONDS
  until rabbit_ready; do
    if [ $((SECONDS - start)) -ge 180 ]; then
      tail -n 30 "$rdir/log/$rabbit_node.log" >&2 2>/dev/null || true
      die "RabbitMQ did not come up within 180 s: see $rdir/log/"
    fi
    sleep 2
  done
  rabbit_users
}

rabbit_ctl() { rabbit rabbitmqctl -q -n "$rabbit_node" "$@" </dev/null; }

# The users of permissions.txt and ctm-admin, with their passwords (on stdin, never on a command line), tags and
# permissions on '/'; then guest is deleted. Safe to repeat.
rabbit_users() {
  local role user existing
  existing="$(rabbit_ctl list_users --no-table-headers | cut -f1)"
  for role in admin $(broker_roles); do
    user="ctm-$role"
    if grep -qxF "$user" <<<"$existing"; then
      broker_password "$role" | rabbit rabbitmqctl -q -n "$rabbit_node" change_password "$user" >/dev/null || die "could not set the password of $user"
    else
      broker_password "$role" | rabbit rabbitmqctl -q -n "$rabbit_node" add_user "$user" >/dev/null || die "could not create the RabbitMQ user $user"
    fi
    if [ "$role" = admin ]; then
      rabbit_ctl set_user_tags "$user" administrator >/dev/null
    else
      # shellcheck disable=SC2046 # none or one word
      rabbit_ctl set_user_tags "$user" $(broker_perm "$role" tags) >/dev/null
    fi
  done
  rabbit_grant /
  if grep -qx guest <<<"$existing"; then
    say "Deleting RabbitMQ's default user guest"
    rabbit_ctl delete_user guest >/dev/null
  fi
}

# rabbit_grant VHOST: creates it if missing; every role its permissions there, ctm-admin all.
rabbit_grant() {
  local vhost="$1" role
  rabbit_ctl list_vhosts --no-table-headers | grep -qxF "$vhost" || rabbit_ctl add_vhost "$vhost" >/dev/null
  rabbit_ctl set_permissions -p "$vhost" ctm-admin '.*' '.*' '.*' >/dev/null
  for role in $(broker_roles); do
    rabbit_ctl set_permissions -p "$vhost" "ctm-$role" \
      "$(broker_perm "$role" configure)" "$(broker_perm "$role" write)" "$(broker_perm "$role" read)" >/dev/null ||
      die "could not set the permissions of ctm-$role on $vhost"
  done
}

rabbit_down() {
  [ -x "$rbin/rabbitmqctl" ] || return 0
  [ -d "$rdir" ] || return 0
  if rabbit_ping; then
    say "Stopping RabbitMQ node $rabbit_node..."
    rabbit rabbitmqctl -q -n "$rabbit_node" shutdown </dev/null >/dev/null 2>&1 || true
  fi
  if pid_alive "$rdir/rabbitmq.pid"; then
    stop_pid "$(head -n 1 "$rdir/rabbitmq.pid" | tr -dc '0-9')"
  fi
  rm -f "$rdir/rabbitmq.pid"
  # epmd outlives the node; stop it only if we started it and no other node uses it.
  if [ -f "$rdir/epmd.ours" ]; then
    if ! epmd -names 2>/dev/null | grep -q '^name '; then
      epmd -kill >/dev/null 2>&1 || true
    fi
    rm -f "$rdir/epmd.ours"
  fi
}

rabbit_status() {
  if rabbit_ping && mgmt_ready; then
    echo "rabbitmq: running (local node $rabbit_node, amqp 127.0.0.1:$rabbit_port, management http://127.0.0.1:$mgmt_port/)"
  elif rabbit_ping; then
    echo "rabbitmq: running, management API not answering on 127.0.0.1:$mgmt_port"; return 1
  else
    echo "rabbitmq: stopped"; return 1
  fi
}

# ---------------------------------------------------------------- Docker

docker_health() {
  local id
  id="$(compose ps -q "$1" 2>/dev/null)"
  [ -n "$id" ] || return 1
  [ "$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null)" = healthy ]
}

docker_up() {
  cmd_secrets
  say "Starting postgres and rabbitmq with docker compose..."
  compose up -d postgres rabbitmq </dev/null >&2
  local s
  for s in postgres rabbitmq; do
    wait_for 180 docker_health "$s" || die "container $s is not healthy after 180 s: see 'docker compose logs $s'"
  done
  wait_for 60 mgmt_ready || die "the rabbitmq container's management API does not answer on 127.0.0.1:$mgmt_port"
}

docker_down() { compose stop postgres rabbitmq </dev/null >&2; }

docker_status() {
  local s rc=0
  for s in postgres rabbitmq; do
    if docker_health "$s"; then echo "$s: running (docker compose, healthy)"; else echo "$s: not running/healthy (docker compose)"; rc=1; fi
  done
  return "$rc"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  ensure_host_tools
  local mode
  mode="$(choose_mode)"
  mkdir -p "$state"
  if [ -s "$mode_file" ] && [ "$(cat "$mode_file")" != "$mode" ]; then
    say "infra was last started in $(cat "$mode_file") mode: stopping that first"
    CTM_INFRA="$(cat "$mode_file")" cmd_down
  fi
  echo "$mode" >"$mode_file"
  if [ "$mode" = docker ]; then docker_up
  elif [ "${1:-}" = rabbitmq ]; then rabbit_up; rabbit_status; return
  else pg_up; rabbit_up
  fi
  cmd_status
}

cmd_down() {
  local mode
  mode="$(recorded_mode)"
  if [ "$mode" = docker ]; then
    docker_engine && docker_down
  elif [ "${1:-}" = rabbitmq ]; then
    rabbit_down; return
  else
    rabbit_down
    pg_down
  fi
  rm -f "$mode_file"
  say "infra down"
}

cmd_status() {
  local rc=0
  if [ "$(recorded_mode)" = docker ]; then
    docker_status || rc=1
  else
    pg_status || rc=1
    rabbit_status || rc=1
  fi
  return "$rc"
}

cmd_env() {
  local admin operator
  admin="$(admin_auth)"
  [ "$admin" != guest:guest ] ||
    say "note: no broker users in $broker_dir yet (a node started by an older infra.sh): './ctm infra up' creates them; guest meanwhile"
  operator="$admin"
  [ -s "$broker_dir/passwords/operator" ] && operator="ctm-operator:$(cat "$broker_dir/passwords/operator")"
  cat <<EOF
export CTM_PG_PORT=$pg_port
export CTM_RABBIT_PORT=$rabbit_port
export CTM_RABBIT_MGMT_PORT=$mgmt_port
export CTM_TEST_POSTGRES='Host=127.0.0.1;Port=$pg_port;Username=ctm;Password=ctm;Database=postgres'
export CTM_TEST_RABBITMQ='amqp://$admin@127.0.0.1:$rabbit_port/'
export CTM_TEST_RABBITMQ_MANAGEMENT='http://$admin@127.0.0.1:$mgmt_port/'
export CTM_RABBITMQ_MANAGEMENT_URL='http://$operator@127.0.0.1:$mgmt_port/'
export CTM_BROKER_PASSWORDS='$broker_dir/passwords'
EOF
}

cmd_grant() {
  local vhost="${1:-}"
  [ -n "$vhost" ] || die "usage: scripts/infra.sh grant VHOST"
  if [ "$(recorded_mode)" = docker ]; then
    command -v jq >/dev/null 2>&1 || apt_install jq
    local auth api="http://127.0.0.1:$mgmt_port/api" role enc
    auth="$(admin_auth)"
    enc="$(printf '%s' "$vhost" | jq -sRr @uri)"
    curl -sf -u "$auth" -X PUT "$api/vhosts/$enc" >/dev/null || die "could not create the virtual host $vhost"
    for role in admin $(broker_roles); do
      if [ "$role" = admin ]; then
        echo '{"configure":".*","write":".*","read":".*"}'
      else
        jq -nc --arg c "$(broker_perm "$role" configure)" --arg w "$(broker_perm "$role" write)" --arg r "$(broker_perm "$role" read)" \
          '{configure:$c, write:$w, read:$r}'
      fi | curl -sf -u "$auth" -X PUT -H 'content-type: application/json' -d @- "$api/permissions/$enc/ctm-$role" >/dev/null ||
        die "could not set the permissions of ctm-$role on $vhost"
    done
  else
    rabbit_ping || die "RabbitMQ is not running: ./ctm infra up"
    rabbit_grant "$vhost"
  fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  grant) shift; cmd_grant "$@" ;;
  secrets) cmd_secrets ;;
  *) usage ;;
esac
