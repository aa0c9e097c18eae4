"""Benchmark, study 1: preprocessing throughput (MB/s of raw text, end to end)
and peak memory of the Kyoto 2013 preprocessing path, on SYNTHETIC data.

Usage: .venv/bin/python benchmarks/ids_preprocess.py [--sizes-gb 0.05 0.1] [--day-mb 27]
       [--jobs 2] [--protocols paper] [--dataset] [--snakemake] [--data-dir /tmp/reproflow-ids-bench]
       [--keep] [--out FILE.json]

Data: daily files written by the project's generator (reproflow.ids.synth:
`day_records`, as `reproflow kyoto synth` / `write_days` writes them), about
`--day-mb` MB of raw text per day (the real Jan-Jun 2013 files average about
27 MB: 4.1 GB over 152 days); a size of S GB is the first S*1000/day-mb days
of one generated set (generated once, for the largest size, not timed). The
records are synthetic: the timings depend on the format and on the number and
length of the records, not on what they say.

Per size, the Snakemake rules' work runs as the rules run it (workflow/rules/
ids.smk), each job a fresh Python process calling the same function as the
rule's script (scripts/ids_*.py), at most `--jobs` at a time, like
`snakemake --cores 2` with one thread per job:

  parse      per day: `jobs.parse_day` (parse + validate, rejects, columns,
             partial statistics, the day's SHA-256)
  fit        per protocol: `jobs.fit_protocol` (one fit from all days' statistics)
  transform  per protocol: `jobs.transform_days` (every day's uint8 bins, one process)
  dataset    (only with --dataset) per protocol, feature set `all`:
             `jobs.build_dataset` (concatenate, deduplicate, trim)

Beside them, the same files are read the same number at a time, each job a bare
`pyarrow.csv.read_csv` (tab-separated, no header, no quoting, all columns as
strings; nothing checked or written): `bare_read_csv_mb_per_s`, the yardstick
the parser is measured against (issue 15, item 4).

Throughput = raw bytes / wall seconds from the first parse job's start to the
last transform job's end (the "preprocessing" of issue 3: parse + fit +
transform), and separately with the dataset step. Snakemake's own scheduling
overhead per job is not included (each job's interpreter start and imports
are). Peak memory = the largest max RSS of any job process
(getrusage(RUSAGE_CHILDREN)), and each job's own max RSS is recorded.
CPU seconds are reported too: inside each job's function (`cpu_seconds`),
and of the whole job processes with interpreter start and imports
(`process_cpu_seconds`, getrusage(RUSAGE_CHILDREN)), the bare reads' likewise
(`bare_process_cpu_seconds`) and their ratio (`process_cpu_ratio`, bare /
preprocessing: the MB/s ratio two idle cores would show); on a shared machine
MB per process CPU second x cores estimates what an idle machine would reach.

With --snakemake, each size is also run through the real workflow: `snakemake
--cores <jobs>` in a scratch folder holding links to this repository's
Snakefile, workflow/, scripts/ and config/, the generated days placed where the
`ids_synth` rule would have written them (so it does not run), asked for every
day's binned file of each protocol: parse, fit and transform jobs exactly as a
user's run does them, Snakemake's start-up, DAG, scheduling and per-job script
start included. Throughput = raw bytes / wall seconds of that command.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nmr_bench import children_cpu  # this folder is on sys.path when a benchmark runs

from reproflow.ids import paths as ids_paths
from reproflow.ids.synth import NOTE, day_names, day_records

FIRST_DAY = "20130101"
SEED = 2013
REPO = Path(__file__).resolve().parents[1]
SPLIT_SEED = 2013
TEST_SHARE = 0.2
MAX_REJECT_SHARE = 0.01
TEST_DAYS_SHARE = 0.2      # clean protocol: the last 20% of the days are test days
BYTES_PER_ROW = 176        # about, for the generator's records (checked on the first day)


# ------------------------------------------------------------------ one job (child process)


def run_job(spec: dict) -> dict:
    """Run one rule's function in this (fresh) process; report time and memory."""
    from reproflow.ids import jobs

    started, cpu = time.perf_counter(), time.process_time()
    kind = spec.pop("kind")
    run = {"parse": jobs.parse_day, "fit": jobs.fit_protocol, "transform": jobs.transform_days,
           "dataset": jobs.build_dataset, "bare": bare_read}[kind]
    run(**spec)
    return {"kind": kind, "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bare_read(source: str) -> int:
    """The yardstick: one day read by a bare `pyarrow.csv.read_csv` (tab-separated, no
    header, no quoting, every column a string), nothing checked or written."""
    from pyarrow import csv

    from reproflow.ids.kyoto import FIELDS

    table = csv.read_csv(source, csv.ReadOptions(column_names=list(FIELDS)),
                         csv.ParseOptions(delimiter="\t", quote_char=False),
                         csv.ConvertOptions(column_types={name: "string" for name in FIELDS}))
    return table.num_rows


# ------------------------------------------------------------------ data


def _write_day(args: tuple[str, int, int, int]) -> int:
    path, index, n_days, rows = args
    data = ("\n".join(day_records(index, n_days, rows, SEED)) + "\n").encode("ascii")
    Path(path).write_bytes(data)
    return len(data)


def generate(folder: Path, days: list[str], rows: int, jobs: int) -> None:
    """The days' files, as write_days writes them (generated in parallel; not timed)."""
    from multiprocessing import Pool

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SYNTHETIC.md").write_text(NOTE)
    todo = [(str(folder / f"{day}.txt"), i, len(days), rows) for i, day in enumerate(days)
            if not (folder / f"{day}.txt").exists()]
    meta = folder / "rows.json"
    if meta.exists() and json.loads(meta.read_text()) != {"rows": rows, "days": len(days), "seed": SEED}:
        raise SystemExit(f"{folder} holds another generated set ({meta.read_text().strip()}); "
                         "use another --data-dir or delete it")
    if todo:
        print(f"generating {len(todo)} synthetic days of {rows} records in {folder} ...", flush=True)
        with Pool(jobs) as pool:
            pool.map(_write_day, todo)
    meta.write_text(json.dumps({"rows": rows, "days": len(days), "seed": SEED}))


# ------------------------------------------------------------------ the pipeline


def launch(spec: dict) -> dict:
    result = subprocess.run([sys.executable, __file__, "--job", json.dumps(spec)], capture_output=True,
                            text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if result.returncode != 0:
        raise SystemExit(f"job failed: {spec}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def phase(pool: ThreadPoolExecutor, specs: list[dict]) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    results = list(pool.map(launch, specs))
    return time.perf_counter() - started, results


def at(work: Path, template: str, **wildcards: str) -> str:
    """A path template of the workflow (reproflow.ids.paths), filled in, under `work`
    instead of the workflow's folder."""
    return str(work / template.format(**wildcards).removeprefix(f"{ids_paths.WORK}/"))


def run_size(days: list[str], raw: Path, work: Path, protocols: list[str], jobs: int,
             dataset: bool) -> dict:
    if work.exists():
        shutil.rmtree(work)
    # (the jobs make their outputs' folders)
    parsed = {"columns": ids_paths.PARSED_COLUMNS, "stats": ids_paths.PARSED_STATS,
              "rejects": ids_paths.PARSED_REJECTS, "info": ids_paths.PARSED_INFO}
    parse = [{"kind": "parse", "source": str(raw / f"{d}.txt"), "day": d,
              "out": {key: at(work, template, day=d) for key, template in parsed.items()},
              "max_reject_share": MAX_REJECT_SHARE, "split_seed": SPLIT_SEED, "test_share": TEST_SHARE}
             for d in days]
    test_days = max(1, round(len(days) * TEST_DAYS_SHARE))
    fit = [{"kind": "fit", "protocol": p, "stats": {d: at(work, ids_paths.PARSED_STATS, day=d) for d in days},
            "days": days, "test_days": test_days, "out": at(work, ids_paths.FITTED, protocol=p)} for p in protocols]
    binned = {p: {"binned": {d: at(work, ids_paths.BINNED, protocol=p, day=d) for d in days},
                  "info": {d: at(work, ids_paths.BINNED_INFO, protocol=p, day=d) for d in days}}
              for p in protocols}
    transform = [{"kind": "transform", "columns": {d: at(work, ids_paths.PARSED_COLUMNS, day=d) for d in days},
                  "fitted": at(work, ids_paths.FITTED, protocol=p), "split_seed": SPLIT_SEED,
                  "test_share": TEST_SHARE, "out": binned[p]} for p in protocols]
    times, jobs_done = {}, {}
    load_before = os.getloadavg()
    usage = children_cpu()
    with ThreadPoolExecutor(jobs) as pool:
        started = time.perf_counter()
        for name, specs in (("parse", parse), ("fit", fit), ("transform", transform)):
            times[name], jobs_done[name] = phase(pool, specs)
        end_to_end = time.perf_counter() - started
        process_cpu = children_cpu() - usage
        if dataset:
            data = [{"kind": "dataset", "binned": binned[p]["binned"],
                     "transform_info": list(binned[p]["info"].values()),
                     "parse_info": [at(work, ids_paths.PARSED_INFO, day=d) for d in days], "protocol": p,
                     "feature_set": "all", "trim_multiple": 256 if p == "paper" else 1, "source": "synthetic",
                     "out": {"data": at(work, ids_paths.DATASET, protocol=p, features="all"),
                             "info": at(work, ids_paths.DATASET_INFO, protocol=p, features="all")}}
                    for p in protocols]
            times["dataset"], jobs_done["dataset"] = phase(pool, data)
        # the same files, the same jobs at a time, each a bare pyarrow read (the yardstick)
        usage = children_cpu()
        times["bare_read_csv"], jobs_done["bare_read_csv"] = phase(
            pool, [{"kind": "bare", "source": str(raw / f"{d}.txt")} for d in days])
        bare_process_cpu = children_cpu() - usage
    load_after = os.getloadavg()
    raw_bytes = sum((raw / f"{d}.txt").stat().st_size for d in days)
    infos = [json.loads(Path(at(work, ids_paths.PARSED_INFO, day=d)).read_text()) for d in days]
    lines, records, rejected = (sum(i[k] for i in infos) for k in ("lines", "records", "rejected"))
    if rejected or records != lines:
        raise SystemExit(f"unexpected rejects: {rejected} of {lines} lines")
    all_jobs = [job for name, jobs_ in jobs_done.items() if name != "bare_read_csv" for job in jobs_]
    cpu = {name: sum(j["cpu"] for j in js) for name, js in jobs_done.items()}
    main_cpu = sum(cpu[k] for k in ("parse", "fit", "transform"))
    result = {
        "days": len(days), "raw_bytes": raw_bytes, "raw_mb": raw_bytes / 1e6, "records": records,
        "protocols": protocols, "jobs": jobs,
        "seconds": times, "end_to_end_seconds": end_to_end,
        "mb_per_s": raw_bytes / 1e6 / end_to_end,
        "bare_read_csv_mb_per_s": raw_bytes / 1e6 / times["bare_read_csv"],
        "cpu_seconds": cpu, "mb_per_cpu_s": raw_bytes / 1e6 / main_cpu,
        # all CPU of the parse/fit/transform processes, interpreter start and imports included
        "process_cpu_seconds": process_cpu, "mb_per_process_cpu_s": raw_bytes / 1e6 / process_cpu,
        # the same of the bare reads' processes, and the ratio of the two: what the wall-clock
        # ratio would be on two idle cores (every job a single-threaded process but the bare
        # read, whose threads' CPU counts in full), and steadier than it on a shared machine
        "bare_process_cpu_seconds": bare_process_cpu,
        "bare_mb_per_process_cpu_s": raw_bytes / 1e6 / bare_process_cpu,
        "process_cpu_ratio": bare_process_cpu / process_cpu,
        "peak_rss_mb": {name: max(j["max_rss_mb"] for j in js) for name, js in jobs_done.items()},
        "peak_rss_mb_any_job": max(j["max_rss_mb"] for j in all_jobs),
        "loadavg_before": load_before, "loadavg_after": load_after,
        "output_mb": sum(f.stat().st_size for f in work.rglob("*") if f.is_file()) / 1e6,
    }
    if dataset:
        total = end_to_end + times["dataset"]
        result["with_dataset_seconds"] = total
        result["with_dataset_mb_per_s"] = raw_bytes / 1e6 / total
        result["dataset_counts"] = {
            p: json.loads(Path(at(work, ids_paths.DATASET_INFO, protocol=p, features="all")).read_text())["counts"]
            for p in protocols}
    return result


def run_snakemake(days: list[str], raw: Path, work: Path, protocols: list[str], jobs: int, rows: int) -> dict:
    """The same days through `snakemake --cores jobs` (see the module docstring)."""
    if work.exists():
        shutil.rmtree(work)
    synth = work / ids_paths.SYNTH
    synth.mkdir(parents=True)
    for name in ("Snakefile", "workflow", "scripts", "config", "envs"):
        (work / name).symlink_to(REPO / name)
    for day in days:
        os.link(raw / f"{day}.txt", synth / f"{day}.txt")
    shutil.copy(raw / "SYNTHETIC.md", synth / "SYNTHETIC.md")
    overlay = work / "bench.yaml"
    overlay.write_text(json.dumps({
        "run_name": "bench", "studies": ["ids"], "protocols": protocols,
        "ids": {"max_reject_share": MAX_REJECT_SHARE,
                "synth": {"days": len(days), "rows_per_day": rows, "seed": SEED, "first_day": FIRST_DAY},
                "paper": {"split_seed": SPLIT_SEED, "test_share": TEST_SHARE},
                "clean": {"test_days": max(1, round(len(days) * TEST_DAYS_SHARE))}},
    }))
    targets = [ids_paths.BINNED.format(protocol=p, day=d) for p in protocols for d in days]
    command = [str(Path(sys.executable).parent / "snakemake"), "--cores", str(jobs), *targets,
               "--configfile", str(overlay)]
    load_before = os.getloadavg()
    started = time.perf_counter()
    result = subprocess.run(command, cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0 or "ids_synth" in result.stderr:
        raise SystemExit(f"snakemake failed or regenerated the days:\n{result.stderr[-3000:]}")
    raw_bytes = sum((raw / f"{d}.txt").stat().st_size for d in days)
    return {"snakemake_seconds": seconds, "snakemake_mb_per_s": raw_bytes / 1e6 / seconds,
            "snakemake_jobs": len(days) + 2 * len(protocols),
            "snakemake_loadavg_before": load_before, "snakemake_loadavg_after": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--sizes-gb", type=float, nargs="+", default=[0.05, 0.1],
                        help="raw text sizes to run, GB (issue 3: 0.5 1 2)")
    parser.add_argument("--day-mb", type=float, default=27.0, help="raw MB per daily file (real Kyoto: ~27)")
    parser.add_argument("--jobs", type=int, default=2, help="jobs at a time (snakemake --cores)")
    parser.add_argument("--protocols", nargs="+", default=["paper"], choices=["paper", "clean"])
    parser.add_argument("--dataset", action="store_true", help="also time ids_dataset (feature set all)")
    parser.add_argument("--snakemake", action="store_true",
                        help="also run each size through `snakemake --cores JOBS` (the real workflow)")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/reproflow-ids-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the generated days and the last outputs (default: delete --data-dir)")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args()
    if args.job:
        print(json.dumps(run_job(json.loads(args.job))))
        return

    rows = max(1, round(args.day_mb * 1e6 / BYTES_PER_ROW))
    n_days = {size: max(1, round(size * 1000 / args.day_mb)) for size in args.sizes_gb}
    all_days = day_names(FIRST_DAY, max(n_days.values()))
    raw = args.data_dir / "raw"
    generate(raw, all_days, rows, args.jobs)
    results = []
    for size in args.sizes_gb:
        days = all_days[:n_days[size]]
        print(f"size {size} GB: {len(days)} days ...", flush=True)
        result = {"size_gb": size, **run_size(days, raw, args.data_dir / "work", args.protocols, args.jobs,
                                              args.dataset)}
        results.append(result)
        print(f"  {result['raw_mb']:.0f} MB in {result['end_to_end_seconds']:.1f} s: "
              f"{result['mb_per_s']:.1f} MB/s end to end ({result['seconds']}); bare pyarrow.csv.read_csv "
              f"{result['bare_read_csv_mb_per_s']:.1f} MB/s; process CPU {result['process_cpu_seconds']:.2f} s, "
              f"bare {result['bare_process_cpu_seconds']:.2f} s (ratio {result['process_cpu_ratio']:.2f}); "
              f"{result['mb_per_cpu_s']:.1f} MB per CPU s; peak RSS {result['peak_rss_mb_any_job']:.0f} MB "
              f"({result['peak_rss_mb']}); load {result['loadavg_before'][0]:.1f} -> "
              f"{result['loadavg_after'][0]:.1f}", flush=True)
        if args.snakemake:
            result.update(run_snakemake(days, raw, args.data_dir / "snakemake", args.protocols, args.jobs, rows))
            print(f"  through snakemake: {result['raw_mb']:.0f} MB in {result['snakemake_seconds']:.1f} s: "
                  f"{result['snakemake_mb_per_s']:.1f} MB/s ({result['snakemake_jobs']} jobs)", flush=True)
    # the largest RSS of any child process over the whole run, as the kernel counts it
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = {
        "benchmark": "ids_preprocess", "synthetic": True, "rows_per_day": rows, "day_mb": args.day_mb,
        "python": platform.python_version(), "cpus": os.cpu_count(), "results": results,
        "peak_rss_mb_children": children_peak,
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
    if not args.keep:
        shutil.rmtree(args.data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
