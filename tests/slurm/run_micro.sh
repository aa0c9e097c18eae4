#!/usr/bin/env bash
# The micro config end to end on a SLURM cluster with the project's SLURM
# profile, then checks that every job went through the scheduler.
#
#   tests/slurm/cluster.sh start      # a one-node cluster (or use a real one)
#   tests/slurm/run_micro.sh [WORKDIR]
#
# Copies the workflow (Snakefile workflow scripts config envs) into WORKDIR (a
# new temporary folder by default, kept for inspection) and runs
#   snakemake --profile workflow/profiles/slurm --configfile config/micro.yaml --jobs 2 ...
# Checks (tests/slurm/micro_helpers.py check): every non-local job has a
# SLURM job record (sacct, per rule), all COMPLETED, the training rules asked
# for a GPU (ReqTRES gres/gpu and --gpus in the sbatch call), and every
# study's results/<study>/metrics.json exists. With MLFLOW_TRACKING_URI set
# (a tracking server: scripts/tracking_server.sh), the jobs log to it and
# `micro_helpers.py check-tracking` reads the runs back (one parent per study,
# a child per job, all FINISHED, training artifacts on the server); unset,
# they go to the workdir's SQLite store. Exit status 1 on a failed check.
#
# Environment: SLURM_PARTITION (debug), SLURM_ACCOUNT (reproflow),
# SNAKEMAKE_JOBS (2), REPROFLOW_VENV (the checkout's .venv),
# MLFLOW_TRACKING_URI (none).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${REPROFLOW_VENV:-$REPO/.venv}
PARTITION=${SLURM_PARTITION:-debug}
ACCOUNT=${SLURM_ACCOUNT:-reproflow}
JOBS=${SNAKEMAKE_JOBS:-2}
WORK=${1:-$(mktemp -d "${TMPDIR:-/tmp}/reproflow-slurm.XXXXXX")}
HELPERS="$REPO/tests/slurm/micro_helpers.py"

say() { echo "[run_micro] $*"; }
die() { echo "[run_micro] FAILED: $*" >&2; exit 1; }

for tool in sbatch sacct sinfo; do
    command -v "$tool" >/dev/null || die "$tool not found: is SLURM installed (tests/slurm/cluster.sh start)?"
done
[[ -x $VENV/bin/snakemake ]] || die "no snakemake in $VENV"
sinfo -h -p "$PARTITION" -o %a | grep -q up || die "partition $PARTITION is not up (sinfo)"

mkdir -p "$WORK"
for part in Snakefile workflow scripts config envs; do
    cp -r "$REPO/$part" "$WORK/"
done
find "$WORK" -name __pycache__ -prune -exec rm -rf {} +
say "workdir: $WORK"

# the venv first on PATH (the jobs run `python -m snakemake` of this venv on the node)
export PATH="$VENV/bin:$PATH"
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 TF_CPP_MIN_LOG_LEVEL=2
if [[ -n ${MLFLOW_TRACKING_URI:-} ]]; then
    say "MLflow: tracking server $MLFLOW_TRACKING_URI"
else
    say "MLflow: the workdir's SQLite store (no MLFLOW_TRACKING_URI)"
fi

# the profile's resources with the cluster's partition/account added and
# CPUs/memory capped to the node (see micro_helpers.py overrides)
mapfile -t RESOURCE_ARGS < <("$VENV/bin/python" "$HELPERS" overrides \
    "$WORK/workflow/profiles/slurm/config.v8+.yaml" "$PARTITION" "$ACCOUNT" "$JOBS")

cmd=("$VENV/bin/snakemake" --profile workflow/profiles/slurm --configfile config/micro.yaml
     --jobs "$JOBS" "${RESOURCE_ARGS[@]}"
     --slurm-status-command sacct
     --slurm-init-seconds-before-status-checks 5
     --slurm-keep-successful-logs
     --verbose)
printf '%q ' "${cmd[@]}" >"$WORK/command.txt"; echo >>"$WORK/command.txt"
say "running: $(cat "$WORK/command.txt")"

start=$(date +%s)
set +e
(cd "$WORK" && "${cmd[@]}") >"$WORK/snakemake.log" 2>&1
rc=$?
set -e
wall=$(( $(date +%s) - start ))
say "snakemake exit status $rc after ${wall}s (log: $WORK/snakemake.log)"
grep -E "^(Executing subworkflow|[0-9]+ of [0-9]+ steps)" "$WORK/snakemake.log" | tail -1 || true

run_uuid=$(sed -n 's/.*SLURM run ID: \([A-Za-z0-9_-]*\).*/\1/p' "$WORK/snakemake.log" | head -1)
[[ -n $run_uuid ]] || { tail -40 "$WORK/snakemake.log" >&2; die "no 'SLURM run ID' in the log: did the slurm executor start?"; }
say "SLURM run ID: $run_uuid"

check_rc=0
"$VENV/bin/python" "$HELPERS" check "$WORK" "$WORK/snakemake.log" "$run_uuid" || check_rc=$?
if [[ -n ${MLFLOW_TRACKING_URI:-} ]]; then
    "$VENV/bin/python" "$HELPERS" check-tracking "$WORK" "$WORK/snakemake.log" "$MLFLOW_TRACKING_URI" || check_rc=$?
fi
if ((rc != 0)); then
    grep -E "Error|error|FAILED|failed" "$WORK/snakemake.log" | tail -30 >&2 || true
    die "snakemake exited with status $rc (log: $WORK/snakemake.log)"
fi
((check_rc == 0)) || die "checks failed (log: $WORK/snakemake.log)"
say "passed in ${wall}s: workdir $WORK"
