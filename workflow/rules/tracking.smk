# MLflow store: created once, before any job writes to it. Neither rule has
# params that change with the config: a rerun of either would stop Snakemake
# from checking the jobs downstream of it (see docs in tracking.py).


rule mlflow_store:
    output:
        "results/mlflow/store.json",
    log:
        "logs/mlflow/store.log",
    benchmark:
        "results/benchmarks/mlflow/store.tsv"
    conda:
        ENV
    script:
        "../../scripts/mlflow_store.py"


rule mlflow_parent:
    input:
        ancient(rules.mlflow_store.output),
    output:
        "results/{study}/mlflow_parent_run.json",
    log:
        "logs/mlflow/{study}_parent.log",
    benchmark:
        "results/benchmarks/mlflow/{study}_parent.tsv"
    conda:
        ENV
    params:
        # a new run name starts a new parent run (and reruns the study)
        run_name=config["run_name"],
    script:
        "../../scripts/mlflow_parent.py"
