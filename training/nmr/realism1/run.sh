#!/bin/bash
# Resumable background training of the realism1 cascade (one thread, niced).
# Rerun to resume: finished stages are loaded from cascade/, the running one
# goes on from its last epoch checkpoint in backup/. Usage: run.sh SECONDS
cd "$(dirname "$0")/../../.."
export PYTHONPATH=$PWD/src PATH=$PWD/.venv/bin:$PATH
run=training/nmr/realism1
exec timeout --signal=TERM "${1:-3600}" nice -n 19 python scripts/nmr_train_standalone.py --threads 1 --processes 1 \
    --config config/config.yaml config/nmr_cpu.yaml $run/config.yaml \
    --out $run/cascade --backup $run/backup >> $run/train.log 2>&1
