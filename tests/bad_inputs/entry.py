"""Call one package entry function as a rule's script would.

    python entry.py module:function KWARGS_JSON

A ReproflowError ends it with its message and exit status 1, as
`reproflow.runtime.run_logged` ends a job; anything else is a traceback,
which the hostile-input tests count as a defect.
"""

import importlib
import json
import sys

from reproflow.errors import ReproflowError

target, kwargs = sys.argv[1], json.loads(sys.argv[2])
module, function = target.split(":")
try:
    getattr(importlib.import_module(module), function)(**kwargs)
except ReproflowError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(1)
