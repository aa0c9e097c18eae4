"""Config and data-registry loading, validation and hashing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from reproflow.errors import ReproflowError

if TYPE_CHECKING:
    import jsonschema


class ConfigError(ReproflowError):
    """A config or registry value is missing, unknown or of the wrong type."""


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the resolved config, key order free."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Config merged as Snakemake merges config files: mappings key by key,
    anything else replaced by `extra`'s value."""
    out = dict(base)
    for key, value in extra.items():
        both = isinstance(value, Mapping) and isinstance(out.get(key), Mapping)
        out[key] = merge(out[key], value) if both else value
    return out


def merge_config_files(paths: Sequence[str | Path]) -> dict[str, Any]:
    """YAML config files merged as Snakemake's `--configfile a b` merges them."""
    config: dict[str, Any] = {}
    for path in paths:
        config = merge(config, yaml.safe_load(Path(path).read_text()) or {})
    return config


def module_config(user: Mapping[str, Any], root: str | Path) -> dict[str, Any]:
    """The config of this workflow used as a module of another one
    (`module reproflow: snakefile: ..., config: config`): Snakemake then skips
    the module's own `configfile:`, so the user's config (often one study's
    settings) is laid over the workflow's defaults, root/config/config.yaml.
    The defaults' data registry is the workflow's own file; every other path
    stays relative to the user's working folder (results, lockfile, store)."""
    defaults_path = Path(root) / "config" / "config.yaml"
    try:
        defaults = yaml.safe_load(defaults_path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read the workflow's default config {defaults_path}: {error}") from error
    defaults["registry"] = str(Path(root) / defaults["registry"])
    return merge(defaults, user)


def validate(instance: Mapping[str, Any], schema_path: str | Path, source: str) -> None:
    """Validate against a JSON schema; the error names the offending key."""
    import jsonschema     # here: scripts/nmr_train_standalone.py runs where only NumPy, YAML and Keras are

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(
            f"{source}: " + "; ".join(describe(error) for error in errors)
        )


def describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        where = f"under '{key}'" if error.absolute_path else "at the top level"
        return f"unknown key(s) {extra} {where} (allowed: {allowed})"
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return f"missing required key '{key}.{missing}'".replace("'(top level).", "'")
    return f"key '{key}': {error.message}"


def load_registry(path: str | Path, schema: str | Path) -> dict[str, Any]:
    """The data registry (config/datasets.yaml), validated: {dataset: entry}."""
    path = Path(path)
    try:
        registry = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read the data registry {path}: {error}") from error
    validate(registry, schema, f"data registry {path}")
    return registry["datasets"]
