"""config/README.md describes every key of the config schema, and no other."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from workflow_utils import REPO

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
README = REPO / "config/README.md"


def schema_keys(node: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key path of the schema (`a.b.c`), $refs followed."""
    if "$ref" in node:
        node = defs[node["$ref"].removeprefix("#/$defs/")]
    for key, child in node.get("properties", {}).items():
        path = f"{prefix}{key}"
        yield path
        yield from schema_keys(child, defs, f"{path}.")


def documented_keys(text: str) -> dict[str, str]:
    """{key: description} of the README's table rows `| \\`key\\` | description |`."""
    rows = re.findall(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$", text, re.M)
    return {key: description.strip() for key, description in rows}


def test_every_schema_key_is_described_in_config_readme():
    schema = yaml.safe_load(SCHEMA.read_text())
    keys = list(schema_keys(schema, schema.get("$defs", {})))
    documented = documented_keys(README.read_text())
    assert len(keys) > 100  # the walk reached the nested keys
    missing = [key for key in keys if not documented.get(key)]
    assert not missing, f"{README.relative_to(REPO)} does not describe: {missing}"
    stale = sorted(set(documented) - set(keys))
    assert not stale, f"{README.relative_to(REPO)} describes keys the schema does not have: {stale}"


def test_the_check_sees_a_missing_and_a_stale_key():
    schema = {"properties": {"a": {"properties": {"b": {"$ref": "#/$defs/d"}}}},
              "$defs": {"d": {"properties": {"c": {}}}}}
    assert list(schema_keys(schema, schema["$defs"])) == ["a", "a.b", "a.b.c"]
    assert documented_keys("| `a` | x |\n| `a.b` |  |\n| key | description |\n") == {"a": "x", "a.b": ""}
