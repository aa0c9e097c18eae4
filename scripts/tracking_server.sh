#!/usr/bin/env bash
# An MLflow tracking server on a PostgreSQL database, for many jobs on many
# nodes (a cluster); one machine keeps the default SQLite store.
#
#   scripts/tracking_server.sh start    # create (once) and start PostgreSQL, then `mlflow server`
#   scripts/tracking_server.sh uri      # the MLFLOW_TRACKING_URI for jobs
#   scripts/tracking_server.sh status
#   scripts/tracking_server.sh stop     # stop both (the data stays in the state folder)
#
# PostgreSQL is Debian's package (`apt-get install postgresql`; installed here
# when run as root and missing). The script creates its own database cluster
# in $TRACKING_STATE/pgdata (initdb), owned by the user running the script, or
# by `postgres` when run as root (PostgreSQL refuses to run as root), listening
# on TRACKING_PG_HOST:TRACKING_PG_PORT only, password authentication (a random
# password in $TRACKING_STATE/pgpass, mode 600, read by libpq through
# PGPASSFILE, so it is on no command line). MLflow runs with
# `--serve-artifacts`: jobs upload artifacts to the server, which stores them
# in $TRACKING_STATE/artifacts; jobs need nothing but the URI.
#
# Environment (defaults): TRACKING_STATE (.tracking-server in the checkout),
# TRACKING_HOST (127.0.0.1: this machine only; a cluster's nodes need the
# submit host's address - MLflow has no authentication here, so bind to an
# internal network only), TRACKING_PORT (5000), TRACKING_PG_HOST (127.0.0.1),
# TRACKING_PG_PORT (5433), TRACKING_WORKERS (2), PG_BINDIR (the newest
# /usr/lib/postgresql/*/bin), MLFLOW (the venv's mlflow, else on PATH).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$(realpath -m "${TRACKING_STATE:-$REPO/.tracking-server}")
HOST=${TRACKING_HOST:-127.0.0.1}
PORT=${TRACKING_PORT:-5000}
PG_HOST=${TRACKING_PG_HOST:-127.0.0.1}
PG_PORT=${TRACKING_PG_PORT:-5433}
WORKERS=${TRACKING_WORKERS:-2}
PG_USER=mlflow
PG_DB=mlflow
PGDATA="$STATE/pgdata"
LOG="$STATE/log"
PIDFILE="$STATE/mlflow-server.pid"
export PGPASSFILE="$STATE/pgpass"

say() { echo "[tracking_server] $*"; }
die() { echo "[tracking_server] ERROR: $*" >&2; exit 1; }

# an address in a URL: IPv6 literals need brackets
url_host() { if [[ $1 == *:* ]]; then echo "[$1]"; else echo "$1"; fi; }
server_url() { echo "http://$(url_host "$HOST"):$PORT"; }
backend_uri() { echo "postgresql://$PG_USER@$(url_host "$PG_HOST"):$PG_PORT/$PG_DB"; }

find_mlflow() {
    if [[ -n ${MLFLOW:-} ]]; then echo "$MLFLOW"
    elif [[ -x $REPO/.venv/bin/mlflow ]]; then echo "$REPO/.venv/bin/mlflow"
    else command -v mlflow || die "mlflow not found: run 'make setup' or set MLFLOW"
    fi
}

# the venv's python beside mlflow (a fresh Debian has no python3 of its own)
python() {
    local bin
    bin=$(dirname "$(find_mlflow)")/python
    if [[ -x $bin ]]; then "$bin" "$@"; else python3 "$@"; fi
}

find_pg_bindir() {
    if [[ -n ${PG_BINDIR:-} ]]; then echo "$PG_BINDIR"; return; fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [[ -z $dir && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing postgresql (Debian's package)" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends postgresql; } >"$LOG/apt.log" 2>&1 || { tail -20 "$LOG/apt.log" >&2; die "apt-get install postgresql failed"; }
        dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    fi
    [[ -x $dir/initdb ]] || die "no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql, or set PG_BINDIR"
    echo "$dir"
}

# PostgreSQL's own commands run as the cluster's owner
PG_OWNER=$(id -un)
if [[ $(id -u) -eq 0 ]]; then PG_OWNER=postgres; fi
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u "$PG_OWNER" -- env PGPASSFILE="$PGPASSFILE" "$@"; else "$@"; fi
}

pg_running() { [[ -s $PGDATA/postmaster.pid ]] && as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
# alive and not a zombie (the server's parent, this script, is gone; a
# container's init may never reap it)
alive() { local stat; stat=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [[ $stat != Z* ]]; }
server_running() { [[ -s $PIDFILE ]] && alive "$(cat "$PIDFILE")"; }
server_healthy() {
    python - "$(server_url)/health" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
}

create_cluster() {
    [[ -s $PGDATA/PG_VERSION ]] && return
    say "creating a PostgreSQL cluster in $PGDATA (owner $PG_OWNER)"
    local password pwfile
    password=$(python -c 'import secrets; print(secrets.token_urlsafe(24))')
    (umask 077 && echo "$PG_HOST:$PG_PORT:*:$PG_USER:$password" >"$PGPASSFILE")
    pwfile=$(mktemp "$STATE/pw.XXXXXX")
    echo "$password" >"$pwfile"
    install -d -m 700 "$PGDATA"
    if [[ $(id -u) -eq 0 ]]; then
        chown "$PG_OWNER" "$PGDATA" "$pwfile" "$PGPASSFILE"
        as_owner test -x "$STATE" || die "user $PG_OWNER cannot enter $STATE: choose a TRACKING_STATE it can reach"
    fi
    as_owner "$PG_BIN/initdb" -D "$PGDATA" -U "$PG_USER" --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 >"$LOG/initdb.log" 2>&1 \
        || { rm -f "$pwfile"; cat "$LOG/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
}

start_postgres() {
    pg_running && return
    say "starting PostgreSQL on $PG_HOST:$PG_PORT"
    install -d -m 700 "$STATE/pgsocket"
    if [[ $(id -u) -eq 0 ]]; then chown "$PG_OWNER" "$STATE/pgsocket" "$LOG"; fi
    as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOG/postgresql.log" -w -t 60 \
        -o "-c listen_addresses=$PG_HOST -p $PG_PORT -c unix_socket_directories=$STATE/pgsocket" start \
        >/dev/null || { tail -20 "$LOG/postgresql.log" >&2; die "PostgreSQL did not start (log: $LOG/postgresql.log)"; }
    if ! as_owner "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
        as_owner "$PG_BIN/createdb" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB" \
            || die "could not create database $PG_DB"
    fi
}

start_server() {
    if server_running; then
        server_healthy || die "mlflow server (pid $(cat "$PIDFILE")) runs but $(server_url)/health does not answer"
        return
    fi
    local mlflow
    mlflow=$(find_mlflow)
    mkdir -p "$STATE/artifacts"
    say "starting mlflow server on $(server_url) (store $(backend_uri), artifacts $STATE/artifacts)"
    # its own session, so stop can end the server and its workers together
    MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 setsid "$mlflow" server \
        --host "$HOST" --port "$PORT" --workers "$WORKERS" \
        --backend-store-uri "$(backend_uri)" \
        --serve-artifacts --artifacts-destination "$STATE/artifacts" \
        >"$LOG/mlflow-server.log" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    for ((i = 0; i < 120; i++)); do
        if server_healthy; then say "up: MLFLOW_TRACKING_URI=$(server_url)"; return; fi
        server_running || break
        sleep 1
    done
    tail -30 "$LOG/mlflow-server.log" >&2
    cmd_stop >/dev/null
    die "mlflow server did not answer on $(server_url)/health (log: $LOG/mlflow-server.log)"
}

cmd_start() {
    mkdir -p "$STATE" "$LOG"
    PG_BIN=$(find_pg_bindir)
    create_cluster
    start_postgres
    start_server
}

cmd_stop() {
    if server_running; then
        local pid
        pid=$(cat "$PIDFILE")
        say "stopping mlflow server (pid $pid)"
        kill -- "-$pid" 2>/dev/null || kill "$pid"
        for ((i = 0; i < 30; i++)); do alive "$pid" || break; sleep 1; done
        kill -9 -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
    if [[ -s $PGDATA/PG_VERSION ]]; then
        PG_BIN=$(find_pg_bindir)
        if pg_running; then
            say "stopping PostgreSQL"
            as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
        fi
    fi
}

cmd_status() {
    local rc=0
    if server_running && server_healthy; then echo "mlflow server: running on $(server_url)"
    else echo "mlflow server: stopped"; rc=1; fi
    if [[ -s $PGDATA/PG_VERSION ]] && PG_BIN=$(find_pg_bindir) && pg_running; then
        echo "PostgreSQL: running on $PG_HOST:$PG_PORT ($PGDATA)"
    else echo "PostgreSQL: stopped"; rc=1; fi
    return $rc
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    uri) server_url ;;
    *) echo "usage: $0 start|stop|status|uri" >&2; exit 2 ;;
esac
