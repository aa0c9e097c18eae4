"""The conda env files pin the same versions as pyproject.toml."""

import re
import tomllib

import pytest
import yaml

from workflow_utils import REPO

PINS = dict(
    re.match(r"([A-Za-z0-9_.-]+)==(.+)", dep).groups()
    for dep in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
)


def normalise(name: str) -> str:
    return name.lower().replace("_", "-")


@pytest.mark.parametrize("env_file", sorted((REPO / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_env_pins_match_pyproject(env_file):
    spec = yaml.safe_load(env_file.read_text())
    pinned = {}
    for dep in spec["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        for entry in entries:
            match = re.match(r"([A-Za-z0-9_.-]+)(==?)([^ ]+)$", entry)
            if match and match.group(1) != "python":
                pinned[normalise(match.group(1))] = match.group(3)
    pyproject = {normalise(name): version for name, version in PINS.items()}
    assert pinned, f"{env_file.name} pins nothing"
    for name, version in pinned.items():
        assert name in pyproject, f"{env_file.name}: {name} is not a dependency in pyproject.toml"
        assert version == pyproject[name], f"{env_file.name}: {name}={version}, pyproject has {pyproject[name]}"


def test_every_rule_names_an_existing_env():
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for env in re.findall(r'"\.\./\.\./(envs/[^"]+)"', smk.read_text()):
            assert (REPO / env).exists(), f"{smk.name} names {env}, which does not exist"
