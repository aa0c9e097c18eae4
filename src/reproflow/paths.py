"""Where the workflow writes, relative to the checkout: the layout every
study shares. Each study's own templates are in `reproflow.<study>.paths`.

A template names its variable parts as Snakemake wildcards in braces
("{dataset}"); rule files use the templates as they are, plan modules and
tests fill them in with `str.format`. Every template is written once, here
or in a study's module (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

RESOURCES = "resources"
RESULTS = "results"
DATASETS_CARD = f"{RESULTS}/data/datasets.csv"
DATASETS_CARD_HTML = f"{RESULTS}/data/datasets.html"
REPORT = f"{RESULTS}/report.html"


class _KeepWildcards(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, **values: object) -> str:
    """`template` with the wildcards named in `values` filled in, the others left as they are."""
    return template.format_map(_KeepWildcards(values))


def resource(dataset: str, name: str) -> str:
    """A downloaded file of the data registry, or the folder an archive is extracted to."""
    return f"{RESOURCES}/{dataset}/{name}"


@dataclass(frozen=True)
class Study:
    """A study's folders and summary files (results/<name>/...), its logs and
    benchmarks; `name` may be the wildcard "{study}"."""

    name: str

    @property
    def results(self) -> str:
        return f"{RESULTS}/{self.name}"

    @property
    def work(self) -> str:
        """The jobs' own files (DVC keeps them, the report shows none)."""
        return f"{self.results}/work"

    @property
    def tables(self) -> str:
        return f"{self.results}/tables"

    @property
    def plots(self) -> str:
        """CSV files DVC shows as plots."""
        return f"{self.results}/plots"

    @property
    def figures(self) -> str:
        return f"{self.results}/figures"

    @property
    def metrics(self) -> str:
        """The summary metrics: what DVC shows as the study's metrics."""
        return f"{self.results}/metrics.json"

    @property
    def summary_run(self) -> str:
        """The run manifest of the summary job (its MLflow parent run's content)."""
        return f"{self.results}/summary_run.json"

    @property
    def published(self) -> str:
        """The marker of the study's runs sent to the MLflow store (rule mlflow_publish)."""
        return f"{self.results}/mlflow_published.json"

    def log(self, name: str) -> str:
        return log(self.name, name)

    def benchmark(self, name: str) -> str:
        return benchmark(self.name, name)


def log(area: str, name: str) -> str:
    """A job's log: logs/<area>/<name>.log (area: a study, "data", "download", ...)."""
    return f"logs/{area}/{name}.log"


def benchmark(area: str, name: str) -> str:
    """A job's Snakemake benchmark, named as its log."""
    return f"{RESULTS}/benchmarks/{area}/{name}.tsv"
