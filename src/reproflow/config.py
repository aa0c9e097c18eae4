"""Config and data-registry loading, validation and hashing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
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
        loaded = load_yaml_file(path, "config file")
        if loaded is not None and not isinstance(loaded, Mapping):
            raise ConfigError(f"config file {path}: a {type(loaded).__name__} at the top level; "
                              "expected a mapping of keys (e.g. 'relu: {epochs: 3}')")
        config = merge(config, loaded or {})
    return config


# A config is a few hundred values (config/paper.yaml: about 600); a file
# expanding to far more is a mistake or an attack (YAML aliases).
MAX_CONFIG_VALUES = 100_000


def readable_file(path: str | Path, what: str) -> Path:
    """`path`, refused when it is missing, a folder, a dangling link or not a regular file."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise ConfigError(f"{what} {path}: a dangling symbolic link (to {os.readlink(path)}); "
                          f"expected the {what} itself")
    if path.is_dir():
        raise ConfigError(f"{what} {path}: is a folder; expected a YAML file")
    if not path.exists():
        raise ConfigError(f"{what} {path}: does not exist")
    if not path.is_file():
        raise ConfigError(f"{what} {path}: not a regular file (a pipe or device?); expected a YAML file")
    return path


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text of a config-like file; other encodings and NUL bytes are named, not guessed."""
    boms = {b"\xff\xfe\x00\x00": "UTF-32 (little-endian byte-order mark FF FE 00 00)",
            b"\x00\x00\xfe\xff": "UTF-32 (big-endian byte-order mark 00 00 FE FF)",
            b"\xff\xfe": "UTF-16 (little-endian byte-order mark FF FE)",
            b"\xfe\xff": "UTF-16 (big-endian byte-order mark FE FF)"}
    for bom, name in boms.items():
        if data.startswith(bom):
            raise ConfigError(f"{source}: encoded as {name}; expected UTF-8 text "
                              f"(convert it, e.g. iconv -f UTF-16 -t UTF-8)")
    data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark says UTF-8: harmless
    if (nul := data.find(b"\x00")) >= 0:
        line = data.count(b"\n", 0, nul) + 1
        sample = data[:200]
        utf16 = sample.count(b"\x00") * 3 >= len(sample)   # every other byte NUL: UTF-16 text without a mark
        hint = " (it looks like UTF-16 without a byte-order mark)" if utf16 else ""
        raise ConfigError(f"{source}, line {line}: a NUL byte (byte {nul}){hint}; expected UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"{source}, line {line}: byte 0x{data[error.start]:02x} is not UTF-8 "
                          f"(byte {error.start}; Latin-1 or another legacy encoding?); expected UTF-8 text") from None


def load_yaml_file(path: str | Path, what: str) -> Any:
    """A config or registry YAML file, refused (file and line named) when it
    is not UTF-8, is not YAML, or uses anchors and aliases: safe_load builds
    an alias as a shared reference, so a few lines can stand for billions of
    values, which only explode when the config is walked, validated or hashed."""
    path = readable_file(path, what)
    source = f"{what} {path}"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{source}: cannot be read ({error.strerror})") from error
    text = decode_text(data, source)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                kind = f"alias *{event.anchor}" if isinstance(event, yaml.AliasEvent) else f"anchor &{event.anchor}"
                raise ConfigError(
                    f"{source}, line {event.start_mark.line + 1}: YAML {kind}; anchors and aliases are not "
                    "accepted in config files (a few lines of them can stand for billions of values): "
                    "write the values out")
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{source}{where}: not valid YAML ({problem})") from None
    check_values(loaded, source)
    return loaded


def key_path(parts: Sequence[Any]) -> str:
    return ".".join(str(part) for part in parts) or "(top level)"


def check_values(instance: Any, source: str, limit: int = MAX_CONFIG_VALUES) -> None:
    """What JSON schema cannot say about a config, checked on every value:
    keys are strings (YAML reads `1:`, `true:` and `null:` as a number, a
    boolean and None), numbers are finite (`.nan` and `.inf` pass every
    `minimum`), and there are at most `limit` values (aliases expanded)."""
    stack: list[tuple[Sequence[Any], Any]] = [((), instance)]
    seen = 0
    while stack:
        parts, value = stack.pop()
        seen += 1
        if seen > limit:
            raise ConfigError(f"{source}: more than {limit} values; a config holds a few hundred "
                              "(do YAML aliases expand into it?)")
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    where = f"under '{key_path(parts)}'" if parts else "at the top level"
                    raise ConfigError(
                        f"{source}: key {key!r} {where} is not a string (YAML read it as {type(key).__name__}); "
                        "expected a key name (YAML reads 1:, true: and null: as a number, a boolean and "
                        "nothing: quote the key, e.g. '1':)")
                stack.append(((*parts, key), item))
        elif isinstance(value, list | tuple):
            stack.extend(((*parts, index), item) for index, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{source}: key '{key_path(parts)}': {value} is not a finite number; "
                              "expected a finite number")


def load_config(paths: Sequence[str | Path], schema_path: str | Path) -> dict[str, Any]:
    """Config files merged as `--configfile a b` merges them, then checked
    as the Snakefile checks them: schema, finite numbers, check_config."""
    config = merge_config_files(paths)
    source = "config (" + " + ".join(map(str, paths)) + ")"
    validate(config, schema_path, source)
    check_config(config, source)
    return config


def module_config(user: Mapping[str, Any], root: str | Path) -> dict[str, Any]:
    """The config of this workflow used as a module of another one
    (`module reproflow: snakefile: ..., config: config`): Snakemake then skips
    the module's own `configfile:`, so the user's config (often one study's
    settings) is laid over the workflow's defaults, root/config/config.yaml.
    The defaults' data registry is the workflow's own file; every other path
    stays relative to the user's working folder (results, lockfile, store)."""
    defaults = load_yaml_file(Path(root) / "config" / "config.yaml", "the workflow's default config")
    defaults["registry"] = str(Path(root) / defaults["registry"])
    return merge(defaults, user)


def validate(instance: Mapping[str, Any], schema_path: str | Path, source: str) -> None:
    """Validate against a JSON schema; the error names the offending key."""
    import jsonschema     # here: scripts/nmr_train_standalone.py runs where only NumPy, YAML and Keras are

    check_values(instance, source)
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(f"{source}: " + "; ".join(describe(error) for error in errors))


def describe(error: jsonschema.ValidationError) -> str:
    key = key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed), key=str)
        where = f"under '{key}'" if error.absolute_path else "at the top level"
        return f"unknown key(s) {extra} {where} (allowed: {allowed})"
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return f"missing required key '{key}.{missing}'".replace("'(top level).", "'")
    return f"key '{key}': {error.message}"


def load_registry(path: str | Path, schema: str | Path) -> dict[str, Any]:
    """The data registry (config/datasets.yaml), validated: {dataset: entry}."""
    registry = load_yaml_file(path, "data registry")
    validate(registry, schema, f"data registry {path}")
    return registry["datasets"]


# -- what a dry run can know -------------------------------------------------
# Checks the schema cannot express, run by the Snakefile right after schema
# validation so that `snakemake -n` refuses a config a job would refuse
# minutes into a run. Each names the key.

NMR_TILE = (32, 64)          # reproflow.nmr.io.TILE: the network's output tile (F1, F2)
# one simulated set holds 4 float32 arrays of (count, 2 n1, 2 n2); past this
# many points per array (16 GiB each) the simulate job cannot hold it
MAX_NMR_SET_POINTS = 2**32
MAX_IDS_ROWS = 500_000_000   # synthetic rows in all (days x rows per day): the dataset job holds them all


def check_config(config: Mapping[str, Any], source: str, registry: Mapping[str, Any] | None = None) -> None:
    """Refuse what the schema lets through but a job would refuse later:
    impossible dates, day lists too short for the test and validation days,
    NMR sizes the network cannot tile or memory cannot hold, [lo, hi]
    ranges upside down, a mirror or lockfile that is not what it should be."""
    problems: list[str] = []
    studies = config.get("studies", [])
    if "ids" in studies:
        problems += ids_problems(config["ids"], config.get("protocols", []), registry)
    if "nmr" in studies:
        problems += nmr_problems(config["nmr"])
    problems += download_problems(config.get("download", {}))
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))


def parse_day(day: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        return None


def ids_problems(ids: Mapping[str, Any], protocols: Sequence[str], registry: Mapping[str, Any] | None) -> list[str]:
    problems = []
    synth = ids["synth"]
    if parse_day(synth["first_day"]) is None:
        problems.append(f"key 'ids.synth.first_day': {synth['first_day']!r} is not a date; expected YYYYMMDD")
    if ids["source"] == "kyoto2013":
        bad = [f"ids.days.{i} = {day!r}" for i, day in enumerate(ids["days"]) if parse_day(day) is None]
        if bad:
            problems.append(f"key {', '.join(bad)}: no such date; expected real days, YYYYMMDD")
        n_days, days_key = len(ids["days"]), "ids.days"
        months = sorted({day[:6] for day in ids["days"]})
        if registry is not None:
            files = registry.get("kyoto2013", {}).get("files", {})
            missing = [m for m in months if f"{m}.zip" not in files]
            if missing:
                problems.append(f"key 'ids.days': months {missing} have no archive in the data registry "
                                f"(kyoto2013 has {sorted(files)})")
    else:
        n_days, days_key = synth["days"], "ids.synth.days"
        if synth["days"] * synth["rows_per_day"] > MAX_IDS_ROWS:
            problems.append(f"keys 'ids.synth.days' x 'ids.synth.rows_per_day': {synth['days']} x "
                            f"{synth['rows_per_day']} rows is more than the {MAX_IDS_ROWS} a run can hold")
    if n_days == 0:
        problems.append(f"key '{days_key}': no days; expected at least one")
    elif "clean" in protocols:
        clean = ids["clean"]
        needed = clean["test_days"] + clean["val_days"] + 1
        if n_days < needed:
            problems.append(
                f"key 'ids.clean.test_days': {clean['test_days']} test days + 'ids.clean.val_days' "
                f"{clean['val_days']} validation days leave no training day among the {n_days} days of "
                f"'{days_key}'; expected at least {needed} days")
    return problems


def nmr_problems(nmr: Mapping[str, Any]) -> list[str]:
    problems = []
    simulation = nmr["simulation"]
    for axis, key in enumerate(("n1", "n2")):
        points, tile = simulation[key], NMR_TILE[axis]
        if 2 * points % tile:
            problems.append(
                f"key 'nmr.simulation.{key}': {points} complex points give a spectrum of {2 * points} points "
                f"(2x zero fill), which the network's {NMR_TILE[0]} x {NMR_TILE[1]} tiles cannot cut; "
                f"expected a multiple of {tile // 2}")
    size = 4 * simulation["n1"] * simulation["n2"]
    for split, count in nmr["sets"].items():
        if count * size > MAX_NMR_SET_POINTS:
            problems.append(
                f"key 'nmr.sets.{split}': {count} spectra of {2 * simulation['n1']} x {2 * simulation['n2']} "
                f"points are {count * size} points per array, more than the {MAX_NMR_SET_POINTS} a "
                "simulate job can hold")
    ranges = {f"nmr.simulation.{k}": simulation.get(k) for k in ("amplitude", "decay1", "decay2")}
    for where, section in (("nmr.vary", nmr.get("vary")), ("nmr.network.vary", nmr["network"].get("vary")),
                           ("nmr.uncertainty.vary", nmr["uncertainty"].get("vary"))):
        ranges.update({f"{where}.{k}": v for k, v in (section or {}).items()})
    problems += [f"key '{key}': [{lo}, {hi}] is not a range; expected [low, high] with low <= high"
                 for key, value in ranges.items() if value is not None for lo, hi in [value] if lo > hi]
    return problems


def download_problems(download: Mapping[str, Any]) -> list[str]:
    problems = []
    mirror = download.get("mirror")
    if mirror and not mirror.startswith(("http://", "https://", "file://")):
        path = Path(mirror).expanduser()
        if path.is_symlink() and not path.exists():
            problems.append(f"key 'download.mirror': {mirror} is a dangling symbolic link (to "
                            f"{os.readlink(path)}); expected a folder")
        elif path.exists() and not path.is_dir():
            problems.append(f"key 'download.mirror': {mirror} is a file; expected a folder or a base URL")
    lockfile = download.get("lockfile")
    if lockfile:
        path = Path(lockfile)
        if path.is_dir():
            problems.append(f"key 'download.lockfile': {lockfile} is a folder; expected a JSON file")
        elif path.is_symlink() and not path.exists():
            problems.append(f"key 'download.lockfile': {lockfile} is a dangling symbolic link (to "
                            f"{os.readlink(path)}); expected a JSON file or no file")
    return problems
