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


def merge_config_files(paths: Sequence[str | Path]) -> dict[str, Any]:
    """YAML config files merged as Snakemake's `--configfile a b` merges them:
    mappings key by key, anything else replaced by the later file."""
    def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in extra.items():
            both = isinstance(value, Mapping) and isinstance(out.get(key), Mapping)
            out[key] = merge(out[key], value) if both else value
        return out

    config: dict[str, Any] = {}
    for path in paths:
        config = merge(config, yaml.safe_load(Path(path).read_text()) or {})
    return config


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
