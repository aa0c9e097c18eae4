"""Helpers of tests/slurm/run_micro.sh (run with the project's venv python).

  micro_helpers.py overrides PROFILE_YAML PARTITION ACCOUNT
      Prints, one argument per line, the --default-resources / --set-resources /
      --set-threads arguments that run the SLURM profile on the test cluster.
      Snakemake replaces a profile's whole `default-resources:` (or
      `set-resources:`) when the same option is on the command line, so these
      repeat the profile's entries, read from the file: only the partition and
      account are added, and cpus_per_task / threads / mem_mb are capped to what
      one node of this cluster has (its CPUs; its memory / --jobs). Every other
      entry - the `gpu: 1` of the training rules among them - is passed as the
      profile has it.

  micro_helpers.py check WORKDIR LOG RUN_UUID
      Checks the finished run: every non-local job of the Snakemake log has a
      SLURM job record (sacct, filtered by the run's job name), per rule; every
      record is COMPLETED; the GPU rules' records asked for gres/gpu (ReqTRES)
      and their sbatch calls carried --gpus (the executor's debug log); each
      study's results/<study>/metrics.json exists. Exit status 1 on any failure.

  micro_helpers.py check-tracking WORKDIR LOG URI
      Reads the runs back from the MLflow tracking server at URI through the
      MLflow client: per study one parent run (named <study>-<run_name>),
      FINISHED; one child run per configuration of the jobs the log shows
      executed (workflow_utils.expected_child_runs), all FINISHED, under that parent; every training run has
      artifacts, listed through the server. Exit status 1 on any failure.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from reproflow import paths

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: workflow_utils
from workflow_utils import expected_child_runs, merged_config  # noqa: E402

# the training rules of the micro run (study 2's: one per protocol and kind of data set, WDBC tabular)
GPU_RULES = ("ids_train", "ids_train_search", "relu_train_paper_tabular", "relu_train_clean_tabular",
             "nmr_train_stage", "nmr_train_sigma")


def node_capacity() -> tuple[int, int]:
    """(CPUs, memory in MB) of the smallest node of the default partition."""
    out = subprocess.run(["sinfo", "-h", "-N", "-o", "%c %m"], capture_output=True,
                         text=True, check=True).stdout.split()
    cpus = [int(v) for v in out[0::2]]
    mems = [int(v.rstrip("+")) for v in out[1::2]]
    return min(cpus), min(mems)


def overrides(profile_path: str, partition: str, account: str, jobs: str = "2") -> None:
    profile = yaml.safe_load(Path(profile_path).read_text())
    cpus, mem = node_capacity()
    mem_cap = mem // max(1, int(jobs))
    notes = []

    def cap(where: str, key: str, value):
        if key == "cpus_per_task" and int(value) > cpus:
            notes.append(f"{where}: cpus_per_task {value} -> {cpus}")
            return cpus
        if key == "mem_mb" and int(value) > mem_cap:
            notes.append(f"{where}: mem_mb {value} -> {mem_cap}")
            return mem_cap
        return value

    defaults = dict(profile.get("default-resources") or {})
    defaults = {k: cap("default", k, v) for k, v in defaults.items()}
    defaults.update(slurm_partition=partition, slurm_account=account)
    args = ["--default-resources", *(f"{k}={v}" for k, v in defaults.items())]
    resources = profile.get("set-resources") or {}
    if resources:
        args.append("--set-resources")
        for rule, entries in resources.items():
            args += [f"{rule}:{k}={cap(rule, k, v)}" for k, v in entries.items()]
    threads = profile.get("set-threads") or {}
    if threads:
        args.append("--set-threads")
        for rule, value in threads.items():
            if int(value) > cpus:
                notes.append(f"{rule}: threads {value} -> {cpus}")
                value = cpus
            args.append(f"{rule}={value}")
    for note in notes:
        print(f"[run_micro] capped to the node ({cpus} CPUs, {mem} MB): {note}", file=sys.stderr)
    print("\n".join(args))


def executed_jobs(log: str) -> Counter:
    """{rule: jobs} that the executor ran ("rule X:" in the log; localrules excluded)."""
    return Counter(re.findall(r"^rule (\w+):$", log, re.M))


def report(failures: list[str], passed: str = "all checks passed") -> int:
    if failures:
        print("FAILED checks:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print(passed)
    return 0


def check_tracking(workdir: str, log_path: str, uri: str) -> int:
    from mlflow.tracking import MlflowClient

    config = yaml.safe_load((Path(workdir) / "config/micro.yaml").read_text())
    run_name = config.get("run_name", "micro")
    jobs = executed_jobs(Path(log_path).read_text(errors="replace"))
    expected = expected_child_runs(jobs, merged_config(Path(workdir), ["config/micro.yaml"]))
    client = MlflowClient(uri)
    failures: list[str] = []
    studies = yaml.safe_load((Path(workdir) / "config/config.yaml").read_text())["studies"]
    for study in studies:
        experiment = client.get_experiment_by_name(study)
        if experiment is None:
            failures.append(f"{uri}: no experiment {study!r}")
            continue
        runs = client.search_runs([experiment.experiment_id], max_results=10000)
        parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
        children = [run for run in runs if "mlflow.parentRunId" in run.data.tags]
        if [(run.info.run_name, run.info.status) for run in parents] != [(f"{study}-{run_name}", "FINISHED")]:
            failures.append(f"{study}: parent runs {[(r.info.run_name, r.info.status) for r in parents]}, "
                            f"expected one FINISHED {study}-{run_name}")
            continue
        parent_id = parents[0].info.run_id
        per_rule = Counter(run.data.tags.get("snakemake_rule", "?") for run in children)
        for rule, count in sorted(per_rule.items()):
            if count != expected[rule]:
                failures.append(f"{study}: {count} child run(s) of rule {rule}, expected {expected[rule]}, one per "
                                "configuration of the jobs in the log")
        for run in children:
            if run.info.status != "FINISHED" or run.data.tags["mlflow.parentRunId"] != parent_id:
                failures.append(f"{study}: child run {run.info.run_name} is {run.info.status}, "
                                f"parent {run.data.tags['mlflow.parentRunId']} (expected {parent_id})")
        trained = [run for run in children if "_train" in run.data.tags.get("snakemake_rule", "")]
        if not trained:
            failures.append(f"{study}: no training run")
        for run in trained:
            artifacts = client.list_artifacts(run.info.run_id)
            if not artifacts:
                failures.append(f"{study}: training run {run.info.run_name} has no artifact on the server")
        print(f"MLflow {study}: 1 parent {parents[0].info.run_name} FINISHED, {len(children)} children "
              f"({', '.join(f'{r} {n}' for r, n in sorted(per_rule.items()))}), all FINISHED; "
              f"{len(trained)} training runs with artifacts, e.g. {trained[0].info.artifact_uri if trained else '-'}")
    return report(failures, "all tracking checks passed")


def sacct_records(run_uuid: str) -> list[dict[str, str]]:
    fields = ["JobID", "JobName", "Comment", "State", "ExitCode", "ReqTRES", "AllocTRES", "NodeList"]
    out = subprocess.run(
        ["sacct", "-X", "-P", "-n", "--starttime", "now-1days", "--name", run_uuid,
         f"--format={','.join(fields)}"],
        capture_output=True, text=True, check=True,
    ).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]


def check(workdir: str, log_path: str, run_uuid: str) -> int:
    work = Path(workdir)
    log = Path(log_path).read_text(errors="replace")
    failures: list[str] = []

    # the jobs Snakemake ran: "rule X:" (executor) vs "localrule X:" (on this host)
    remote = executed_jobs(log)
    local = Counter(re.findall(r"^localrule (\w+):$", log, re.M))
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log))
    print(f"Snakemake jobs: {sum(remote.values())} via the executor, "
          f"{sum(local.values())} local ({', '.join(sorted(local)) or 'none'})")
    print(f"sbatch submissions in the log: {len(submitted)}")

    records = sacct_records(run_uuid)
    by_rule = Counter()
    for rec in records:
        match = re.match(r"rule_(\w+?)(?:_wildcards_.*)?$", rec["Comment"])
        rec["rule"] = match.group(1) if match else "?"
        by_rule[rec["rule"]] += 1
    print(f"SLURM job records (sacct --name {run_uuid}): {len(records)}")

    if not remote:
        failures.append("the Snakemake log names no executed job ('rule X:')")
    for rule in sorted(set(remote) | set(by_rule)):
        if remote[rule] != by_rule[rule]:
            failures.append(f"rule {rule}: {remote[rule]} Snakemake job(s) but "
                            f"{by_rule[rule]} SLURM record(s)")
    ids = {rec["JobID"] for rec in records}
    missing = sorted(set(submitted.values()) - ids, key=int)
    if missing:
        failures.append(f"submitted SLURM jobs without a record: {missing}")
    if len(submitted) != sum(remote.values()):
        failures.append(f"{sum(remote.values())} executor jobs but {len(submitted)} submissions")

    for rec in records:
        if rec["State"] != "COMPLETED":
            failures.append(f"SLURM job {rec['JobID']} ({rec['rule']}): state {rec['State']} "
                            f"exit {rec['ExitCode']}")

    # the GPU request: in the job record and in the executor's sbatch call
    sbatch_calls = re.findall(r"^sbatch call: (.*)$", log, re.M)
    if len(sbatch_calls) != len(submitted):
        failures.append(f"{len(sbatch_calls)} sbatch calls in the log but {len(submitted)} submissions")
    for rule in GPU_RULES:
        recs = [rec for rec in records if rec["rule"] == rule]
        if not recs:
            failures.append(f"rule {rule}: no SLURM job record (expected a GPU job)")
        for rec in recs:
            if "gres/gpu=" not in rec["ReqTRES"]:
                failures.append(f"SLURM job {rec['JobID']} ({rule}) asked for no GPU: "
                                f"ReqTRES={rec['ReqTRES']}")
            else:
                print(f"GPU request: job {rec['JobID']} rule {rule} ReqTRES={rec['ReqTRES']} "
                      f"AllocTRES={rec['AllocTRES']}")
        calls = [c for c in sbatch_calls if re.search(rf"--comment '?rule_{rule}(_wildcards_|[\s'])", c)]
        if len(calls) != len(recs):
            failures.append(f"rule {rule}: {len(calls)} sbatch call(s) in the log, {len(recs)} record(s)")
        for call in calls:
            gpus = re.search(r"--gpus=\S+|--gres=\S*gpu\S*", call)
            if not gpus:
                failures.append(f"an sbatch call of {rule} has no --gpus/--gres=gpu: {call[:300]}")
        if calls:
            print(f"sbatch calls of {rule}: {len(calls)}, e.g. "
                  + re.sub(r" --wrap=.*| /dev/stdin.*", " ...", calls[0]))
    cpu_only = [rec for rec in records if rec["rule"] not in GPU_RULES and "gres/gpu" in rec["ReqTRES"]]
    for rec in cpu_only:
        failures.append(f"SLURM job {rec['JobID']} ({rec['rule']}) asked for a GPU it should not")

    studies = yaml.safe_load((work / "config/config.yaml").read_text())["studies"]
    for study in studies:
        metrics = work / paths.Study(study).metrics
        if not metrics.is_file():
            failures.append(f"missing output {metrics}")
        else:
            print(f"output: {metrics.relative_to(work)} ({metrics.stat().st_size} bytes)")

    print("per rule (Snakemake jobs / SLURM records):",
          ", ".join(f"{r} {remote[r]}/{by_rule[r]}" for r in sorted(remote)))
    return report(failures)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "overrides":
        overrides(*rest)
    elif command == "check":
        sys.exit(check(*rest))
    elif command == "check-tracking":
        sys.exit(check_tracking(*rest))
    else:
        sys.exit(f"unknown command {command}")
