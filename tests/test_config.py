"""Config validation: a bad value stops the workflow with the key named."""

import pytest
import yaml

from reproflow.config import ConfigError, config_hash, load_registry, merge_config_files, validate
from workflow_utils import REPO, copy_workflow, snakemake

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


def default_config() -> dict:
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def merged(base: dict, override: dict) -> dict:
    """Snakemake's --configfile semantics: nested mappings merge."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(base[key], value) if isinstance(value, dict) and key in base else value
    return out


@pytest.mark.parametrize("config_file", ["config/config.yaml", "config/paper.yaml", "config/micro.yaml"])
def test_shipped_configs_are_valid(config_file):
    config = merged(default_config(), yaml.safe_load((REPO / config_file).read_text()))
    validate(config, SCHEMA, config_file)


def test_wrong_type_names_the_key():
    config = default_config()
    config["download"]["retries"] = "many"
    with pytest.raises(ConfigError, match=r"key 'download\.retries': 'many' is not of type 'integer'"):
        validate(config, SCHEMA, "config")


def test_out_of_range_names_the_key():
    config = default_config()
    config["download"]["retries"] = -1
    with pytest.raises(ConfigError, match=r"download\.retries.*minimum"):
        validate(config, SCHEMA, "config")


def test_unknown_key_names_the_key():
    config = default_config()
    config["tracking"]["url"] = "sqlite:///x.db"
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['url'\] under 'tracking'"):
        validate(config, SCHEMA, "config")


def test_missing_key_names_the_key():
    config = default_config()
    del config["download"]["mirror"]
    with pytest.raises(ConfigError, match=r"missing required key 'download\.mirror'"):
        validate(config, SCHEMA, "config")


def test_config_hash_ignores_key_order_but_not_values():
    config = default_config()
    reordered = dict(reversed(list(config.items())))
    assert config_hash(reordered) == config_hash(config)
    config["run_name"] = "other"
    assert config_hash(config) != config_hash(reordered)


def test_registry_rejects_bad_checksum_format(tmp_path):
    registry = yaml.safe_load((REPO / "config/datasets.yaml").read_text())
    registry["datasets"]["mnist"]["files"]["train-images-idx3-ubyte.gz"]["sha256"] = "abc"
    path = tmp_path / "datasets.yaml"
    path.write_text(yaml.safe_dump(registry))
    with pytest.raises(ConfigError, match=r"datasets\.mnist\.files\.train-images-idx3-ubyte\.gz\.sha256"):
        load_registry(path, REPO / "workflow/schemas/datasets.schema.yaml")


def test_snakemake_stops_on_bad_config_value(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    result = snakemake(workdir, "-n", "--config", "download={timeout_s: 0}", check=False)
    assert result.returncode != 0
    assert "key 'download.timeout_s'" in result.stderr + result.stdout


def test_snakemake_stops_on_missing_key(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    del config["tracking"]
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "-n", check=False)
    assert result.returncode != 0
    assert "missing required key 'tracking'" in result.stderr + result.stdout


def test_config_files_merge_as_snakemake_configfile_does(tmp_path):
    base, overlay = tmp_path / "a.yaml", tmp_path / "b.yaml"
    base.write_text("nmr: {seed: 0, network: {stages: 2, tiles: 512}, sets: {train: 16}}\nstudies: [nmr]\n")
    overlay.write_text("nmr: {network: {tiles: 16384}, sets: [1]}\n")
    merged = merge_config_files([base, overlay])
    assert merged == {"nmr": {"seed": 0, "network": {"stages": 2, "tiles": 16384}, "sets": [1]}, "studies": ["nmr"]}
    assert yaml.safe_load(base.read_text())["nmr"]["network"]["tiles"] == 512     # inputs untouched
