#!/usr/bin/env bash
# A Temporal cluster on PostgreSQL on this machine: the pinned server (1.29.1, built by ensure-server.sh) as four
# processes (frontend, history, matching, worker) from infra/temporal/cluster/postgres.yaml, the `temporal` and
# `temporal_visibility` databases set up with temporal-sql-tool, the namespace registered, and a separate database
# `thought_probe` for the run store on the same server.
#
#   cluster.sh start [SERVICE...]   set up (once) and start everything, or only the named services (after a crash)
#   cluster.sh stop [SERVICE...]    stop the named services, or every service and the private PostgreSQL
#   cluster.sh status               what runs, with pids and ports
#   cluster.sh env                  `export` lines for workers and the CLI (TEMPORAL_ADDRESS, the store's URL)
#   cluster.sh restart-postgres     a fast restart of the private PostgreSQL (every connection is cut)
#
# PostgreSQL: with TEMPORAL_CLUSTER_PG_HOST set, the server there (TEMPORAL_CLUSTER_PG_PORT, default 5432;
# TEMPORAL_CLUSTER_PG_USER, default temporal, a role that may create databases; TEMPORAL_CLUSTER_PG_PASSWORD).
# Without it, a private PostgreSQL 15 cluster in the state folder (initdb and pg_ctl, as the `postgres` user when
# run as root; port TEMPORAL_CLUSTER_PG_PORT, default 5433; a random password kept in a 0600 file there).
# Ports: TEMPORAL_CLUSTER_PORT (the frontend's gRPC, default 7233); history +1, matching +2, worker +6, the
# frontend's HTTP +10, membership ports -300, Prometheus metrics +2000 (frontend 9233, history 9234, ...).
# State (pids, logs, the private database): TEMPORAL_CLUSTER_DIR, default .state/cluster.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${TEMPORAL_CLUSTER_DIR:-$root/.state/cluster}
SERVICES=(history matching frontend worker)
PG_BIN=${THOUGHT_PROBE_PG_BIN:-/usr/lib/postgresql/15/bin}
NAMESPACE=${TEMPORAL_CLUSTER_NAMESPACE:-default}
STORE_DB=${TEMPORAL_CLUSTER_STORE_DB:-thought_probe}

die() { echo "error: $*" >&2; exit 1; }
# Bad input (a command, a service, a port, a missing setting): exit 2, naming it and the fix.
bad() { echo "error: $*" >&2; exit 2; }
say() { echo "cluster: $*" >&2; }

offset_of() {
  case $1 in frontend) echo 0 ;; history) echo 1 ;; matching) echo 2 ;; worker) echo 6 ;; *) bad "unknown service '$1' (one of: ${SERVICES[*]})" ;; esac
}

# The ports are fixed by the first start and kept in ports.env, so a service restarted alone rejoins on its own.
load_ports() {
  if [ -f "$state/ports.env" ]; then
    # shellcheck disable=SC1091
    . "$state/ports.env"
    if [ -n "${TEMPORAL_CLUSTER_PORT:-}" ] && [ "$TEMPORAL_CLUSTER_PORT" != "$PORT" ]; then
      say "warning: the cluster in $state was set up on port $PORT; TEMPORAL_CLUSTER_PORT=$TEMPORAL_CLUSTER_PORT is ignored (remove $state to start afresh)"
    fi
  else
    PORT=${TEMPORAL_CLUSTER_PORT:-7233}
    if [ -n "${TEMPORAL_CLUSTER_PG_HOST:-}" ]; then
      PG_MODE=external PG_HOST=$TEMPORAL_CLUSTER_PG_HOST PG_PORT=${TEMPORAL_CLUSTER_PG_PORT:-5432} PG_USER=${TEMPORAL_CLUSTER_PG_USER:-temporal}
    else
      PG_MODE=private PG_HOST=127.0.0.1 PG_PORT=${TEMPORAL_CLUSTER_PG_PORT:-5433} PG_USER=temporal
    fi
  fi
}

save_ports() {
  # Temporal keeps membership ports in a SMALLINT column.
  [ $((PORT - 300)) -ge 1024 ] && [ $((PORT - 300)) -le 32767 ] ||
    bad "TEMPORAL_CLUSTER_PORT=$PORT puts the membership ports (the port - 300) outside 1024-32767, which Temporal cannot store: pick a port from 1324 to 33067"
  mkdir -p "$state"
  printf 'PORT=%s\nPG_MODE=%s\nPG_HOST=%s\nPG_PORT=%s\nPG_USER=%s\n' "$PORT" "$PG_MODE" "$PG_HOST" "$PG_PORT" "$PG_USER" > "$state/ports.env"
}

pg_password() {
  if [ "$PG_MODE" = external ]; then
    [ -n "${TEMPORAL_CLUSTER_PG_PASSWORD:-}" ] || bad "TEMPORAL_CLUSTER_PG_PASSWORD is not set: export the password of $PG_USER@$PG_HOST:$PG_PORT (TEMPORAL_CLUSTER_PG_HOST points the cluster at that server)"
    printf '%s' "$TEMPORAL_CLUSTER_PG_PASSWORD"
  else
    cat "$state/pg-password"
  fi
}

# Postgres refuses to run as root: as root, the private cluster belongs to the `postgres` user (as in test/helpers/postgres.ts).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ctl_private() {
  as_pg "$PG_BIN/pg_ctl" -D "$state/pg/data" -l "$state/pg/server.log" -w -t 60 "$@"
}

pg_options() {
  # Room for four Temporal processes (24 connections each) and the store's pools (10 per worker and CLI).
  echo "-p $PG_PORT -h 127.0.0.1 -k $state/pg -c max_connections=300 ${TEMPORAL_CLUSTER_PG_OPTIONS:-}"
}

start_private_postgres() {
  [ -x "$PG_BIN/initdb" ] || bash "$root/infra/ensure-postgres.sh"
  if [ ! -f "$state/pg/data/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in $state/pg (port $PG_PORT)"
    rm -rf "$state/pg"
    mkdir -p "$state/pg"
    (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$state/pg-password")
    local pwfile="$state/pg/pwfile"
    (umask 077; cat "$state/pg-password" > "$pwfile")
    if [ "$(id -u)" = 0 ]; then
      chown -R postgres:postgres "$state/pg"
      # The postgres user must reach its data through the state folder (traverse only: the password file stays 0600).
      chmod o+x "$state"
      runuser -u postgres -- test -x "$state/pg" ||
        die "the postgres user cannot reach $state/pg (a folder above it is closed to other users): set TEMPORAL_CLUSTER_DIR to a folder under one it can traverse, e.g. /var/tmp/thought-probe-cluster"
    fi
    as_pg "$PG_BIN/initdb" -D "$state/pg/data" -U "$PG_USER" --pwfile="$pwfile" --auth-host=scram-sha-256 \
      --auth-local=trust -E UTF8 --locale=C --no-instructions >"$state/pg/initdb.log" 2>&1 ||
      { cat "$state/pg/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
  fi
  if ! as_pg "$PG_BIN/pg_ctl" -D "$state/pg/data" status >/dev/null 2>&1; then
    pg_ctl_private -o "$(pg_options)" start >/dev/null || { tail -20 "$state/pg/server.log" >&2; die "the private PostgreSQL did not start on port $PG_PORT"; }
  fi
}

sql_tool() {
  SQL_PASSWORD=$(pg_password) "$bindir/temporal-sql-tool" --plugin postgres12 --ep "$PG_HOST" -p "$PG_PORT" -u "$PG_USER" "$@"
}

# Creates the databases and applies the schemas the module ships (once per state folder; safe on a server set up before).
setup_databases() {
  [ -f "$state/setup.done" ] && return 0
  local schema="$root/.tools/share/temporal-server/schema/postgresql/v12"
  local log="$state/setup.log"
  for db in temporal temporal_visibility "$STORE_DB"; do
    # Fails when the database exists already (a server set up before): the schema steps below tell.
    sql_tool --db "$db" create-database >>"$log" 2>&1 || true
  done
  say "setting up the schemas of temporal and temporal_visibility (log: $log)"
  for pair in temporal:temporal visibility:temporal_visibility; do
    # setup-schema fails on a database set up before (a server given with TEMPORAL_CLUSTER_PG_HOST); update-schema
    # then applies only the versions it lacks, and must succeed.
    sql_tool --db "${pair#*:}" setup-schema -v 0.0 >>"$log" 2>&1 || true
    sql_tool --db "${pair#*:}" update-schema -d "$schema/${pair%%:*}/versioned" >>"$log" 2>&1 ||
      { tail -n 20 "$log" | cut -c1-400 >&2; die "the schema update of ${pair#*:} failed (log: $log)"; }
  done
  touch "$state/setup.done"
}

alive() {
  local pid
  pid=$(cat "$state/$1.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null
}

start_service() {
  local svc=$1 off
  off=$(offset_of "$svc")
  if alive "$svc"; then return 0; fi
  # setsid: a service outlives this script and the terminal; tests SIGKILL it by its pid.
  TEMPORAL_CLUSTER_PG_PASSWORD=$(pg_password) \
    TEMPORAL_CLUSTER_PG_HOST=$PG_HOST TEMPORAL_CLUSTER_PG_PORT=$PG_PORT TEMPORAL_CLUSTER_PG_USER=$PG_USER \
    TEMPORAL_CLUSTER_FRONTEND_PORT=$PORT TEMPORAL_CLUSTER_FRONTEND_HTTP_PORT=$((PORT + 10)) \
    TEMPORAL_CLUSTER_FRONTEND_MEMBERSHIP_PORT=$((PORT - 300)) \
    TEMPORAL_CLUSTER_HISTORY_PORT=$((PORT + 1)) TEMPORAL_CLUSTER_HISTORY_MEMBERSHIP_PORT=$((PORT - 299)) \
    TEMPORAL_CLUSTER_MATCHING_PORT=$((PORT + 2)) TEMPORAL_CLUSTER_MATCHING_MEMBERSHIP_PORT=$((PORT - 298)) \
    TEMPORAL_CLUSTER_WORKER_PORT=$((PORT + 6)) TEMPORAL_CLUSTER_WORKER_MEMBERSHIP_PORT=$((PORT - 294)) \
    TEMPORAL_CLUSTER_METRICS_PORT=$((PORT + 2000 + off)) \
    TEMPORAL_CLUSTER_DYNAMIC_CONFIG="$root/infra/temporal/cluster/dynamicconfig.yaml" \
    setsid "$bindir/temporal-server" --root "$root/infra/temporal" --config cluster --env postgres --allow-no-auth \
    start --service "$svc" >>"$state/$svc.log" 2>&1 </dev/null &
  echo $! > "$state/$svc.pid"
  say "started $svc (pid $!, log $state/$svc.log)"
}

temporal_cli() {
  "$cli" --address "127.0.0.1:$PORT" "$@"
}

# Ready means a client can use the namespace: the frontend answers, and listing its workflows works (which needs
# the namespace in the frontend's cache, and visibility).
wait_frontend() {
  local deadline=$((SECONDS + ${TEMPORAL_CLUSTER_START_TIMEOUT:-120}))
  until temporal_cli operator cluster health >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { tail -n 20 "$state/frontend.log" | cut -c1-400 >&2; die "the frontend did not answer on 127.0.0.1:$PORT"; }
    alive frontend || { tail -n 20 "$state/frontend.log" | cut -c1-400 >&2; die "the frontend exited (log: $state/frontend.log)"; }
    sleep 0.5
  done
}

wait_ready() {
  local deadline=$((SECONDS + ${TEMPORAL_CLUSTER_START_TIMEOUT:-120}))
  wait_frontend
  if ! temporal_cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    temporal_cli operator namespace create --namespace "$NAMESPACE" --retention 72h >/dev/null
    say "registered namespace $NAMESPACE"
  fi
  until temporal_cli workflow list --namespace "$NAMESPACE" --limit 1 >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "namespace $NAMESPACE is not usable on 127.0.0.1:$PORT"
    sleep 0.5
  done
}

store_url() {
  # The password is URL-encoded: a private one is hex; an external one may hold anything.
  local pw
  pw=$(pg_password | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(encodeURIComponent(s)))')
  echo "postgres://$PG_USER:$pw@$PG_HOST:$PG_PORT/$STORE_DB"
}

print_env() {
  echo "export TEMPORAL_ADDRESS=127.0.0.1:$PORT"
  echo "export TEMPORAL_NAMESPACE=$NAMESPACE"
  echo "export THOUGHT_PROBE_DATABASE_URL='$(store_url)'"
}

cmd_start() {
  bindir=$(bash "$root/infra/temporal/ensure-server.sh")
  cli=$(bash "$root/infra/temporal/ensure-cli.sh")
  load_ports
  # Settings first: a bad one stops the start before anything is written.
  if [ "$PG_MODE" = external ]; then pg_password >/dev/null; fi
  save_ports
  [ "$PG_MODE" = private ] && start_private_postgres
  setup_databases
  local svcs=("$@")
  if [ ${#svcs[@]} -eq 0 ]; then
    # The frontend alone first: services starting together on fresh databases race to write the cluster's metadata.
    start_service frontend
    wait_frontend
    svcs=(history matching worker)
  fi
  for svc in "${svcs[@]}"; do start_service "$svc"; done
  wait_ready
  for svc in "${SERVICES[@]}"; do
    alive "$svc" || { tail -n 5 "$state/$svc.log" | cut -c1-400 >&2; die "$svc exited at start (log: $state/$svc.log)"; }
  done
  say "Temporal $(cat "$bindir/temporal-server.pinned") on PostgreSQL: frontend 127.0.0.1:$PORT, namespace $NAMESPACE, store database $STORE_DB"
  say "for workers and the CLI: eval \"\$(bash infra/temporal/cluster.sh env)\"   stop: npm run temporal:cluster -- stop"
}

stop_service() {
  local svc=$1 pid
  pid=$(cat "$state/$svc.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    say "stopped $svc (pid $pid)"
  fi
  rm -f "$state/$svc.pid"
}

cmd_stop() {
  [ -f "$state/ports.env" ] || { say "nothing to stop in $state"; return 0; }
  load_ports
  if [ $# -gt 0 ]; then
    for svc in "$@"; do offset_of "$svc" >/dev/null; stop_service "$svc"; done
    return 0
  fi
  # Frontend first, so clients see it go before the services behind it.
  for svc in frontend worker matching history; do stop_service "$svc"; done
  if [ "$PG_MODE" = private ] && [ -f "$state/pg/data/PG_VERSION" ]; then
    pg_ctl_private -m fast stop >/dev/null 2>&1 || true
    say "stopped the private PostgreSQL (its data stays in $state/pg; remove $state to start afresh)"
  fi
}

cmd_status() {
  [ -f "$state/ports.env" ] || { echo "no cluster in $state"; return 3; }
  load_ports
  local down=0
  for svc in "${SERVICES[@]}"; do
    if alive "$svc"; then echo "$svc: running (pid $(cat "$state/$svc.pid"), gRPC $((PORT + $(offset_of "$svc"))))"; else echo "$svc: stopped"; down=1; fi
  done
  echo "postgres: $PG_MODE, $PG_HOST:$PG_PORT"
  return $down
}

cmd=${1:-start}
[ $# -gt 0 ] && shift
case $cmd in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status ;;
  env) load_ports; [ -f "$state/ports.env" ] || die "no cluster in $state: start one with npm run temporal:cluster"; print_env ;;
  restart-postgres)
    load_ports
    [ "$PG_MODE" = private ] || die "the cluster uses PostgreSQL at $PG_HOST:$PG_PORT, which this script does not manage"
    pg_ctl_private -m fast restart >/dev/null
    say "restarted the private PostgreSQL" ;;
  *) bad "unknown command '$cmd': use start, stop, status, env or restart-postgres" ;;
esac
