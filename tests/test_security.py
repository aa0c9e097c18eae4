"""Security (issue 6, item 3): no code runs from data, no shell, local-only servers.

ftp:// and other schemes outside http/https/file: see also
tests/test_download.py::test_unsupported_scheme_refused (fetch and mirrors).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from reproflow.download import SCHEMES, DownloadError, FileSpec, resolve_urls
from reproflow.errors import ReproflowError
from workflow_utils import REPO

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SOURCES = {p.relative_to(REPO).as_posix(): p.read_text() for p in (REPO / "src").rglob("*.py")}
SOURCES |= {p.relative_to(REPO).as_posix(): p.read_text() for p in (REPO / "scripts").rglob("*.py")}


def calls(pattern: str) -> list[tuple[str, str]]:
    """(file, text from the match to the parenthesis that closes its call) of each match."""
    found = []
    for name, text in SOURCES.items():
        for match in re.finditer(pattern, text):
            depth, end = 0, match.start()
            for end in range(match.start(), len(text)):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0 and text[end] in ")\n":
                    break
            found.append((name, text[match.start(): end + 1]))
    return found


# --- (a) Keras models: safe mode only --------------------------------------


def test_every_keras_load_uses_safe_mode():
    loads = calls(r"load_model\(")
    assert loads, "expected the model loaders in src/"
    for name, call in loads:
        assert "safe_mode=True" in call, f"{name}: {call}"
    assert not calls(r"safe_mode\s*=\s*False"), "safe mode switched off somewhere"
    assert not calls(r"enable_unsafe_deserialization"), "unsafe deserialisation enabled somewhere"


@pytest.fixture(scope="module")
def lambda_model(tmp_path_factory) -> Path:
    """A .keras file whose config holds a Lambda layer (Python bytecode)."""
    import keras

    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    path = tmp_path_factory.mktemp("keras") / "model.keras"
    keras.Model(inputs, outputs).save(path)
    return path


def test_nmr_loader_refuses_a_lambda_layer(lambda_model):
    from reproflow.nmr import models

    with pytest.raises(ReproflowError, match=r"model\.keras: not a loadable \.keras model .*`Lambda` layer"):
        models.load(str(lambda_model))


def test_ids_model_folder_refuses_a_lambda_layer(lambda_model, tmp_path):
    from reproflow.ids.predict import load_model_dir

    (tmp_path / "model.keras").write_bytes(lambda_model.read_bytes())
    (tmp_path / "transform.json").write_text(json.dumps({"spec": {}}))
    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(ReproflowError, match=r"model\.keras: not a loadable \.keras model .*`Lambda` layer"):
        load_model_dir(tmp_path)


def test_a_non_model_file_is_a_clear_error(tmp_path):
    from reproflow.nmr import models

    junk = tmp_path / "stage0.keras"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ReproflowError, match="stage0.keras: not a loadable .keras model"):
        models.load(str(junk))


# --- (b) no pickle ----------------------------------------------------------


def test_no_pickle_anywhere_in_the_package():
    for pattern in (r"\bimport (c?pickle|joblib|dill|cloudpickle|shelve|marshal)\b",
                    r"\bfrom (c?pickle|joblib|dill|cloudpickle|shelve|marshal)\b",
                    r"allow_pickle\s*=\s*True", r"torch\.load\(", r"\bpd\.read_pickle\(",
                    r"\beval\(", r"\bexec\(", r"shell\s*=\s*True", r"os\.system\("):
        assert not calls(pattern), (pattern, calls(pattern))


def test_every_numpy_load_refuses_pickles():
    loads = calls(r"np\.load\(")
    assert loads
    for name, call in loads:
        assert "allow_pickle=False" in call, f"{name}: {call}"


def test_npz_loaders_refuse_an_object_array(tmp_path):
    from reproflow.arrays import load_npz
    from reproflow.ids.kyoto import Columns

    path = tmp_path / "evil.npz"
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, [2]]
    np.savez(path, **{key: objects for key in Columns.keys()})
    from reproflow.errors import ReproflowError

    for loader in (Columns.load, load_npz):  # the file named in a ReproflowError
        with pytest.raises(ReproflowError, match="evil.npz: not a readable .npz file .*allow_pickle=False"):
            loader(path)


# --- (c) URL schemes ------------------------------------------------------


@pytest.mark.parametrize("url", ["gopher://example.org/x", "sftp://example.org/x", "data:,x",
                                 "ssh://example.org/x", "javascript:alert(1)"])
def test_only_http_https_and_file_urls(url):
    assert SCHEMES == ("http", "https", "file")
    with pytest.raises(DownloadError, match="only http, https, file are accepted"):
        resolve_urls(FileSpec("demo", "x", (url,)), None)


# --- (d) config values never reach a shell -------------------------------


def test_every_rule_runs_a_script_never_a_shell():
    rules = scripts = 0
    for smk in [REPO / "Snakefile", *sorted((REPO / "workflow/rules").glob("*.smk"))]:
        text = smk.read_text()
        assert not re.search(r"^\s+(shell|run):", text, re.M), f"{smk.name}: shell:/run: directive"
        assert "subprocess" not in text and "os.system" not in text and "shell(" not in text, smk.name
        for body in re.split(r"^rule \w+:", text, flags=re.M)[1:]:
            rules += 1
            directives = set(re.findall(r"^    (\w+):", body, re.M))
            actions = directives & {"script", "shell", "run", "notebook", "wrapper", "cwl"}
            # a rule with outputs runs a script; a target rule (all) runs nothing
            assert actions == ({"script"} if "output" in directives else set()), (smk.name, directives)
            scripts += "script" in actions
    assert rules > scripts >= 20


# --- (e) servers bind to localhost ----------------------------------------


def test_mlflow_ui_binds_localhost():
    makefile = (REPO / "Makefile").read_text()
    target = re.search(r"^ui:.*?(?=^\S)", makefile, re.M | re.S).group(0)
    commands = [line for line in target.splitlines() if "mlflow" in line and " ui" in line or "server" in line]
    assert commands and all("--host 127.0.0.1" in line for line in commands), target
    everything = "\n".join(SOURCES.values()) + makefile
    assert "0.0.0.0" not in everything
