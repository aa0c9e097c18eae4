# MLflow store: created once, before any job writes to it.


rule mlflow_store:
    output:
        "results/mlflow/store.json",
    params:
        uri=config["tracking"]["uri"],
        artifacts=config["tracking"]["artifacts"],
        experiments=config["studies"],
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
    params:
        run_name=config["run_name"],
        config_hash=CONFIG_HASH,
        uri=config["tracking"]["uri"],
    log:
        "logs/mlflow/{study}_parent.log",
    benchmark:
        "results/benchmarks/mlflow/{study}_parent.tsv"
    conda:
        ENV
    script:
        "../../scripts/mlflow_parent.py"
