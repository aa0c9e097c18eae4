# MLflow at the edge: jobs write run manifests (run.json); one publish job
# per study sends them to the store after the study's summary. A store that
# is down or locked fails this job alone: the next run reruns only it.

# Each study's rule file registers a function returning {rule: [run.json, ...]}
# of its jobs (the rule named <study>_summary also feeds the parent run).
STUDY_RUNS = {}


rule mlflow_publish:
    input:
        unpack(lambda wildcards: STUDY_RUNS[wildcards.study]()),
    output:
        shared_paths.Study("{study}").published,
    log:
        shared_paths.log("mlflow", "{study}_publish"),
    benchmark:
        shared_paths.benchmark("mlflow", "{study}_publish")
    wildcard_constraints:
        study="ids|relu|nmr",
    conda:
        TF_ENV
    params:
        # a new run name publishes a new parent run, a new store all runs again; the
        # config hash is no param (read at run time): a setting no job uses reruns nothing
        run_name=config["run_name"],
        tracking=config["tracking"],
    script:
        "../../scripts/mlflow_publish.py"
