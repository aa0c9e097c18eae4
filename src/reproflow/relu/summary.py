"""The study's summary: metrics.json, the comparison with the paper, the end
of the MLflow parent run (scripts/relu_summary.py; no Keras needed)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


from reproflow import tracking
from reproflow.outputs import write_text
from reproflow.runtime import headline as say
from reproflow.relu import report
from reproflow.relu.report import PROTOCOL_NOTE

STUDY = "relu"


def summarize(
    *, jobs: Sequence[str], parent: str, out: Mapping[str, str], protocols: Sequence[str],
    config_hash: str, rule: str,
) -> dict[str, Any]:
    """Aggregate the jobs, compare with the paper, write the study's files, end the parent run."""
    runs = [json.loads(Path(path).read_text()) for path in jobs]
    summary = report.aggregate(runs)
    compared = report.comparison(summary, protocols)
    folds = report.fold_table(runs)
    result = {
        "study": STUDY, "config_hash": config_hash, "protocols": list(protocols),
        "protocol_notes": PROTOCOL_NOTE, "summary": summary,
        "comparison": json.loads(compared.to_json(orient="records")), "jobs": runs,
    }
    Path(out["metrics"]).parent.mkdir(parents=True, exist_ok=True)
    Path(out["metrics"]).write_text(json.dumps(result, indent=2))
    compared.to_csv(out["comparison_csv"], index=False)
    write_text(out["comparison_html"], report.comparison_html(compared, protocols), inputs=jobs)
    headline = report.summary_rows(summary)
    write_text(out["summary_html"], report.summary_html(headline, protocols), inputs=jobs)
    folds.to_csv(out["folds"], index=False)
    write_text(out["folds_html"], report.folds_html(folds), inputs=jobs)
    tags = tracking.run_tags(config_hash=config_hash, rule=rule)
    with tracking.job_run(STUDY, parent, "summary", tags) as run:
        for row in summary:
            name = f"{row['protocol']}.{row['dataset']}.{row['model']}-{row['head']}"
            if row["cv_accuracy_mean"] is not None:
                run.log_metrics({f"{name}.cv_accuracy_mean": row["cv_accuracy_mean"]})
            run.log_metrics({f"{name}.test_accuracy_mean": row["test_accuracy_mean"]})
        for path in out.values():
            run.log_artifact(path)
    tracking.end_job_parent(parent, tags)
    first = headline[0]
    say("%d rows beside the paper in %s; first: %s %s-%s, %s protocol, test accuracy %s%% (paper %s)", len(headline),
        out["summary_html"], first["dataset"], first["model"], first["head"], first["protocol"], first["ours"],
        "–" if first["paper"] is None else f"{first['paper']:.2f}")
    return result
