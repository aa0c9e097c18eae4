"""`snakemake ... 2>&1 | python -m reproflow.progress`: what `make run` shows.

Snakemake's own progress ("12 of 48 steps (25%) done"), each job's one-line
result (its headline, see `reproflow.runtime.headline`), warnings and errors
pass through; the scheduler's chatter around every job ("Select jobs to
execute...", "Execute 1 jobs...", the time stamp, "Finished jobid: ...") is
dropped. Every job's full log stays in logs/ and .snakemake/log/.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator

CHATTER = re.compile(
    r"^(Select jobs to execute\.\.\.|Execute \d+ jobs\.\.\.|\[\w{3} \w{3} +\d+ [\d:]+ \d{4}\]|"
    r"Finished jobid: \d+ \(Rule: [^)]*\)|Using shell: .*|Provided cores: \d+|"
    r"Rules claiming more threads will be scaled down\.|Conda environments: ignored|"
    r"Assuming unrestricted shared filesystem usage\.|Using profile .* for setting default command line arguments\.)$"
)


def condensed(lines: Iterable[str]) -> Iterator[str]:
    """The lines worth a reader's attention, in order; no run of blank lines."""
    blank = False
    for line in lines:
        text = line.rstrip("\n")
        if CHATTER.match(text.strip()):
            continue
        if blank and not text.strip():
            continue
        blank = not text.strip()
        yield text


def main() -> None:
    for text in condensed(sys.stdin):
        print(text, flush=True)


if __name__ == "__main__":
    main()
