#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, from Debian's packages.
#
#   sudo tests/slurm/cluster.sh start    # install (once), configure, start, wait for the node
#   sudo tests/slurm/cluster.sh status   # daemons and sinfo
#   sudo tests/slurm/cluster.sh stop     # stop every daemon that start started
#   sudo tests/slurm/cluster.sh purge    # stop, then remove what start added: the packages
#                                        # it installed, its configs, database and state
#
# Daemons: munged, mariadb (the accounting database), slurmdbd (so that
# `sacct` - the status command of snakemake-executor-plugin-slurm - works),
# slurmctld and slurmd. The node is this host with the CPUs and memory that
# `slurmd -C` reports, one fake GPU (GRES `gpu`, device file /dev/null) so
# that jobs asking for `--gpus=1` are accepted and recorded, in partition
# `debug` (default). No cgroups: proctrack/linuxproc, task/none, so it also
# runs in containers. Every daemon runs as root (a throw-away test cluster).
#
# Needs root and a Debian/Ubuntu system (apt-get); nothing else installed
# beforehand. Packages install with their daemons held back (policy-rc.d), so
# a package's own start-up (with no configuration yet) cannot fail the
# install. Idempotent: `start` on a running cluster only checks it; `stop` on
# a stopped one does nothing. Each step that fails says which and exits 1.
# Environment: SLURM_TEST_STATE (default /var/lib/reproflow-slurm) holds the
# spool folders, pid files and logs; SLURM_TEST_CLUSTER (default reproflow).
set -euo pipefail

STATE=${SLURM_TEST_STATE:-/var/lib/reproflow-slurm}
CLUSTER=${SLURM_TEST_CLUSTER:-reproflow}
ACCOUNT=${SLURM_TEST_ACCOUNT:-reproflow}
CONF_DIR=/etc/slurm
DB_PASS=reproflow-slurm-test
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
LOG="$STATE/log"
# what start added to the machine, one entry a line (package names, munge.key,
# configs, database), so that purge removes exactly that
MANIFEST="$STATE/added"
WRITTEN_CONFIGS=(slurm.conf gres.conf cgroup.conf slurmdbd.conf)

say() { echo "[cluster.sh] $*"; }
die() { echo "[cluster.sh] ERROR: $*" >&2; exit 1; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"; }

# a live process, not a zombie (a container's init may never reap a daemon)
alive() { local stat; stat=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [[ $stat != Z* ]]; }
pid_alive() { [[ -s $1 ]] && alive "$(cat "$1")"; }

added() { grep -qx "$1" "$MANIFEST" 2>/dev/null; }
record() { added "$1" || echo "$1" >>"$MANIFEST"; }

# the written configs' digest, "none" before they exist
conf_digest() { cat "$CONF_DIR/slurm.conf" "$CONF_DIR/gres.conf" 2>/dev/null | md5sum || true; }

install_packages() {
    local missing=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        command -v apt-get >/dev/null || die "apt-get not found: this script needs Debian or Ubuntu"
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # hold back the packages' own daemon start-up during the install (the
        # Debian policy-rc.d convention); this script starts them configured
        local policy=/usr/sbin/policy-rc.d own_policy=0
        if [[ ! -e $policy ]]; then
            printf '#!/bin/sh\n# written by reproflow tests/slurm/cluster.sh during apt-get install\nexit 101\n' >"$policy"
            chmod 755 "$policy"
            own_policy=1
        fi
        local rc=0
        apt-get update -qq >"$STATE/apt.log" 2>&1 \
            && apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$STATE/apt.log" 2>&1 || rc=$?
        ((own_policy)) && rm -f "$policy"
        ((rc == 0)) || { tail -20 "$STATE/apt.log" >&2; die "apt-get install ${missing[*]} failed (log: $STATE/apt.log)"; }
        for pkg in "${missing[@]}"; do record "package $pkg"; done
    fi
    local tool
    for tool in slurmctld slurmd slurmdbd sacctmgr sinfo munged mysqladmin; do
        command -v "$tool" >/dev/null || die "$tool not found after installing ${PACKAGES[*]}"
    done
}

write_configs() {
    local host node_line
    host=$(hostname -s)
    # the real CPUs/sockets/cores/threads/memory of this machine
    node_line=$(slurmd -C | head -1)
    [[ $node_line == NodeName=* ]] || die "slurmd -C gave no node line: $node_line"
    mkdir -p "$CONF_DIR" "$STATE"/{spool/slurmctld,spool/slurmd,run} "$LOG"
    local conf
    for conf in "${WRITTEN_CONFIGS[@]}"; do
        if [[ -e $CONF_DIR/$conf ]] && ! grep -q "Written by tests/slurm/cluster.sh" "$CONF_DIR/$conf"; then
            die "$CONF_DIR/$conf exists and was not written by this script: refusing to replace it"
        fi
        record "config $conf"
    done

    cat >"$CONF_DIR/slurm.conf" <<EOF
# Written by tests/slurm/cluster.sh: a one-node test cluster. Do not edit.
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
ReturnToService=2
# keep finished jobs in slurmctld for an hour: squeue can then report them too
MinJobAge=3600
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5
StateSaveLocation=$STATE/spool/slurmctld
SlurmdSpoolDir=$STATE/spool/slurmd
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
# the executor puts rule_<rule>_wildcards_<...> in the job comment: keep it in sacct
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
$node_line Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    # one fake GPU. slurmd 22.05 drops a file-less GPU ("Removing file-less
    # GPU"), so it gets /dev/null as its device file; there is no GPU here.
    cat >"$CONF_DIR/gres.conf" <<EOF
# Written by tests/slurm/cluster.sh: one fake GPU (device file /dev/null).
AutoDetect=off
NodeName=$host Name=gpu File=/dev/null
EOF
    cat >"$CONF_DIR/cgroup.conf" <<EOF
# Written by tests/slurm/cluster.sh: no cgroup plugin is used (linuxproc, task/none).
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
    cat >"$CONF_DIR/slurmdbd.conf" <<EOF
# Written by tests/slurm/cluster.sh.
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=$LOG/slurmdbd.log
PidFile=$STATE/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$CONF_DIR/slurmdbd.conf"
    chmod 644 "$CONF_DIR/slurm.conf" "$CONF_DIR/gres.conf" "$CONF_DIR/cgroup.conf"
}

start_munge() {
    if pidof munged >/dev/null; then return; fi
    if [[ ! -s /etc/munge/munge.key ]]; then
        mkdir -p /etc/munge
        mungekey --create --keyfile /etc/munge/munge.key || die "mungekey could not create /etc/munge/munge.key"
        record munge.key
    fi
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge && chown munge:munge /run/munge
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged || die "munged did not start (see /var/log/munge/munged.log)"
    munge -n | unmunge >/dev/null || die "munge does not work"
}

start_mariadb() {
    if ! mysqladmin ping >/dev/null 2>&1; then
        say "starting mariadb"
        /etc/init.d/mariadb start >"$LOG/mariadb-start.log" 2>&1 \
            || { cat "$LOG/mariadb-start.log" >&2; die "mariadb did not start"; }
    fi
    record database
    mysql -u root <<EOF || die "could not create the accounting database slurm_acct_db in mariadb"
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
}

wait_for() { # seconds, description, command...
    local seconds=$1 what=$2; shift 2
    for ((i = 0; i < seconds; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    return 1
}

start_slurmdbd() {
    if ! pid_alive "$STATE/run/slurmdbd.pid"; then
        say "starting slurmdbd"
        slurmdbd || { tail -20 "$LOG/slurmdbd.log" >&2; die "slurmdbd did not start"; }
    fi
    wait_for 60 slurmdbd sacctmgr -n list cluster \
        || { tail -20 "$LOG/slurmdbd.log" >&2; die "slurmdbd does not answer"; }
}

start_slurm() {
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
        sacctmgr -i add cluster "$CLUSTER" >/dev/null
    fi
    if ! pid_alive "$STATE/run/slurmctld.pid"; then
        say "starting slurmctld"
        slurmctld || { tail -20 "$LOG/slurmctld.log" >&2; die "slurmctld did not start"; }
    fi
    wait_for 60 slurmctld scontrol ping \
        || { tail -20 "$LOG/slurmctld.log" >&2; die "slurmctld does not answer"; }
    # an account for the workflow's jobs, with root and the invoking user in it
    if ! sacctmgr -n -P list account format=account | grep -qx "$ACCOUNT"; then
        sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description="reproflow tests" >/dev/null
    fi
    for user in root ${SUDO_USER:-}; do
        if ! sacctmgr -n -P list assoc user="$user" account="$ACCOUNT" format=user | grep -qx "$user"; then
            sacctmgr -i add user "$user" account="$ACCOUNT" cluster="$CLUSTER" >/dev/null
        fi
    done
    if ! pid_alive "$STATE/run/slurmd.pid"; then
        say "starting slurmd"
        slurmd || { tail -20 "$LOG/slurmd.log" >&2; die "slurmd did not start"; }
    fi
    local host
    host=$(hostname -s)
    # a node left invalid/drained/down by an earlier start (e.g. a changed
    # gres.conf) comes back once slurmd has registered again
    sleep 2
    if sinfo -h -n "$host" -o %T | grep -Eq '^(inval|drain|drained|draining|down)'; then
        scontrol update nodename="$host" state=resume 2>/dev/null || true
    fi
    if ! wait_for 90 node sh -c "sinfo -h -n '$host' -o %T | grep -Eq '^(idle|mixed|allocated)'"; then
        sinfo -N -l >&2 || true
        tail -20 "$LOG/slurmd.log" >&2 || true
        die "node $host is not idle after 90 s"
    fi
    say "cluster $CLUSTER is up:"
    sinfo -N -o "%N %P %T %c %m %G"
}

stop_pidfile() { # name pidfile
    local pid
    if pid_alive "$2"; then
        pid=$(cat "$2")
        say "stopping $1 (pid $pid)"
        kill "$pid"
        for ((i = 0; i < 30; i++)); do alive "$pid" || return 0; sleep 1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
}

cmd_start() {
    need_root
    mkdir -p "$STATE" "$LOG"
    install_packages
    local before after
    before=$(conf_digest)
    write_configs
    after=$(conf_digest)
    if [[ $before != "$after" ]] && pid_alive "$STATE/run/slurmctld.pid"; then
        # a running cluster with an older configuration: restart slurmctld and slurmd
        say "configuration changed: restarting slurmctld and slurmd"
        stop_pidfile slurmd "$STATE/run/slurmd.pid"
        stop_pidfile slurmctld "$STATE/run/slurmctld.pid"
    fi
    start_munge
    start_mariadb
    start_slurmdbd
    start_slurm
}

cmd_stop() {
    need_root
    stop_pidfile slurmd "$STATE/run/slurmd.pid"
    stop_pidfile slurmctld "$STATE/run/slurmctld.pid"
    stop_pidfile slurmdbd "$STATE/run/slurmdbd.pid"
    if command -v mysqladmin >/dev/null && mysqladmin ping >/dev/null 2>&1; then
        say "stopping mariadb"
        /etc/init.d/mariadb stop >/dev/null 2>&1 || mysqladmin shutdown
    fi
    stop_pidfile munged /run/munge/munged.pid
    say "stopped"
}

cmd_purge() {
    need_root
    if [[ ! -s $MANIFEST ]]; then
        cmd_stop
        rm -rf "$STATE"
        say "nothing recorded as added; state $STATE removed"
        return
    fi
    stop_pidfile slurmd "$STATE/run/slurmd.pid"
    stop_pidfile slurmctld "$STATE/run/slurmctld.pid"
    stop_pidfile slurmdbd "$STATE/run/slurmdbd.pid"
    # a MariaDB that was here before keeps its other databases
    if added database && ! added "package mariadb-server" && mysqladmin ping >/dev/null 2>&1; then
        say "dropping the accounting database"
        mysql -u root -e "DROP DATABASE IF EXISTS slurm_acct_db; DROP USER IF EXISTS 'slurm'@'localhost';" \
            || die "could not drop slurm_acct_db"
    fi
    cmd_stop
    local packages=()
    mapfile -t packages < <(sed -n 's/^package //p' "$MANIFEST")
    if ((${#packages[@]})); then
        say "removing ${packages[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >"$LOG/apt-purge.log" 2>&1 \
            || { tail -20 "$LOG/apt-purge.log" >&2; die "apt-get purge ${packages[*]} failed"; }
    fi
    # MariaDB's data folder when this script installed MariaDB (purge keeps it)
    if added "package mariadb-server"; then rm -rf /var/lib/mysql; fi
    if added munge.key; then rm -f /etc/munge/munge.key; fi
    local conf
    for conf in "${WRITTEN_CONFIGS[@]}"; do
        if added "config $conf"; then rm -f "$CONF_DIR/$conf"; fi
    done
    rmdir "$CONF_DIR" /etc/munge 2>/dev/null || true
    rm -rf "$STATE"
    say "purged: packages ${packages[*]:-none}, configs, database and $STATE"
}

cmd_status() {
    local rc=0
    for d in slurmdbd slurmctld slurmd; do
        if pid_alive "$STATE/run/$d.pid"; then echo "$d: running (pid $(cat "$STATE/run/$d.pid"))"; else echo "$d: stopped"; rc=1; fi
    done
    if pid_alive /run/munge/munged.pid; then echo "munged: running"; else echo "munged: stopped"; rc=1; fi
    if mysqladmin ping >/dev/null 2>&1; then echo "mariadb: running"; else echo "mariadb: stopped"; rc=1; fi
    if ((rc == 0)); then sinfo -N -o "%N %P %T %c %m %G"; fi
    return $rc
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    purge) cmd_purge ;;
    status) cmd_status ;;
    *) echo "usage: $0 start|stop|purge|status" >&2; exit 2 ;;
esac
