"""Small, styled, standalone HTML pages of tables for the Snakemake report.

The report shows an HTML item inline (in a frame) and offers CSV or Markdown
only as a download, so every table a reader should see is written here as
HTML: readable column labels, numbers rounded as a paper would print them, a
verdict column where we set ours beside the paper's, and a banner on pages
whose numbers come from simulated or synthetic data.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.2em; color: #1f2933; }
h2 { font-size: 1.25em; margin: 0 0 0.3em; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.3em; }
p { max-width: 60em; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.92em; }
th, td { padding: 0.3em 0.7em; border-bottom: 1px solid #d9dee3; text-align: left; }
th { background: #eef1f4; font-weight: 600; border-bottom: 2px solid #9aa5b1; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:hover td { background: #f7f9fb; }
.banner { background: #fff4d6; border-left: 5px solid #e0a100; padding: 0.5em 0.8em; max-width: 60em; }
.note { color: #52606d; font-size: 0.9em; }
.good { color: #1b7f3b; font-weight: 600; }
.bad { color: #b42318; font-weight: 600; }
.neutral { color: #52606d; }
td.verdict, td:last-child { min-width: 13em; }
"""


@dataclass(frozen=True)
class Column:
    """One column: the row key, its heading and how to print a value."""

    key: str
    label: str
    format: Callable[[Any], str] | None = None
    numeric: bool = False  # right-aligned even when the cells are text ("91.2 ± 2.3")


def fixed(digits: int) -> Callable[[Any], str]:
    """A number with `digits` decimals (as the paper prints it)."""
    return lambda value: f"{value:.{digits}f}"


def signed(digits: int) -> Callable[[Any], str]:
    """A difference, always with its sign."""
    return lambda value: f"{value:+.{digits}f}"


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def cell(value: Any, format: Callable[[Any], str] | None = None) -> tuple[str, bool]:
    """The cell's text and whether it is a number (right-aligned)."""
    if _is_missing(value):
        return "–", False
    if format is not None:
        return format(value), isinstance(value, (int, float))
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        return f"{value:.4g}", True
    return str(value), False


VERDICT_CLASSES = {"matches": "good", "better": "good", "above": "good", "below": "bad", "worse": "bad"}


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], caption: str | None = None) -> str:
    """An HTML table of `rows`, one column per `columns` entry."""
    head = "".join(f"<th>{html.escape(c.label)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            text, number = cell(row.get(column.key), column.format)
            if number or column.numeric or (column.format is not None and text == "–"):
                cells.append(f"<td class='num'>{html.escape(text)}</td>")
                continue
            first, sep, rest = text.partition(" ")
            word = first.rstrip(",;:")
            if word in VERDICT_CLASSES:   # the verdict's word in colour, its reason plain
                cells.append(f"<td class='verdict'><span class='{VERDICT_CLASSES[word]}'>{html.escape(word)}</span>"
                             f"{html.escape(first[len(word):] + sep + rest)}</td>")
            else:
                cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    title = f"<h3>{html.escape(caption)}</h3>" if caption else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, sections: Sequence[str], note: str | None = None, banner: str | None = None) -> str:
    """A standalone page: title, an optional warning banner, the sections, a note."""
    parts = [f"<h2>{html.escape(title)}</h2>"]
    if banner:
        parts.append(f"<p class='banner'>{html.escape(banner)}</p>")
    parts += list(sections)
    if note:
        parts.append(f"<p class='note'>{html.escape(note)}</p>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")


def paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def verdict(difference: float | None, tolerance: float, higher_is_better: bool = True) -> str:
    """'matches' within `tolerance` of the paper, else 'better' or 'below'
    ('–' with nothing to compare)."""
    if _is_missing(difference):
        return "–"
    if abs(difference) <= tolerance:
        return "matches"
    return "better" if (difference > 0) == higher_is_better else "below"


def labelled(keys: Mapping[str, str]) -> Callable[[Any], str]:
    """Print an internal key by its human label (the key itself if unlisted)."""
    return lambda value: keys.get(value, str(value))
