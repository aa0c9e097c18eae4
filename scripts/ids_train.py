"""Snakemake adapter: train the GRU arms of one job in one process (learning-rate
search: every arm and rate of a feature set; final: both arms of one seed)."""

from reproflow.runtime import limit_threads, per_configuration, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.ids.jobs import train_jobs  # after the thread limit

    w = snakemake.wildcards
    params = snakemake.params
    search = snakemake.rule == "ids_train_search"
    outputs = per_configuration(snakemake.output, len(params.runs))
    configurations = []
    for run, out, backup_dir in zip(params.runs, outputs, params.backup_dirs):
        arm, lr = run if search else (run, None)
        common = {"data": snakemake.input.data, "info": snakemake.input.info, "out": out, "feature_set": w.features,
                  "arm": arm, "options": params.options, "backup_dir": backup_dir}
        if search:
            configurations.append({**common, "protocol": "clean", "seed": int(params.seed), "purpose": "search",
                                   "learning_rate": float(lr)})
        else:
            configurations.append({**common, "protocol": w.protocol, "seed": int(w.seed), "purpose": "final",
                                   # the clean protocol's search results of this arm (none in paper)
                                   "search_files": list(snakemake.input[f"search_{arm}"]),
                                   "transform": snakemake.input.transform})
    train_jobs(configurations)


run_logged(main, snakemake.log[0])
