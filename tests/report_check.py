"""Open Snakemake's HTML report as a reader would, in headless Chromium.

`python tests/report_check.py results/report.html [--out DIR]` (also `make
report-check`): for the landing page and for each study's category it loads
a copy of the report with a small script appended that, once the report's
app has started, opens that study's summary table (the first subcategory's
one item) as a click on it would, then reports back through the DOM what the
browser shows: the frame holding the summary and its size, the summary's
rows as parsed by the browser, and every figure of the report loaded as an
image (its pixel size, or that it failed). Screenshots of each view are kept
in DIR (default: report-check/ beside the report).

The report is a JavaScript app with no addressable views, so the appended
script drives it through its own `app.setView`, the call its menu makes.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

SUMMARY_SUBCATEGORY = "1. Ours beside the paper"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1600,1000", "--virtual-time-budget=15000",
)
RESULT_ID = "report-check-result"

DRIVER = """
<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var category = %(category)s, subcategory = %(subcategory)s;
    var out = {images: {}, summary: null};
    var waiting = 1;
    function done() {
      waiting -= 1;
      if (waiting > 0) return;
      var frame = document.querySelector("iframe");
      if (frame) {
        var box = frame.getBoundingClientRect();
        out.frame = {src_is_summary: out.summary !== null && frame.src === out.summary.data_uri,
                     width: box.width, height: box.height, top: box.top, left: box.left};
      }
      if (out.summary) delete out.summary.data_uri;
      var pre = document.createElement("pre");
      pre.id = "%(result_id)s";
      pre.style.display = "none";
      pre.textContent = JSON.stringify(out);
      document.body.appendChild(pre);
    }
    if (category !== null) {
      var path = categories[category][subcategory][0];
      app.showCategory(category);
      app.setView({navbarMode: "subcategory", category: category, subcategory: subcategory,
                   content: "html", contentPath: results[path].data_uri, resultPath: path});
      out.summary = {path: path, data_uri: results[path].data_uri};
      waiting += 1;
      fetch(results[path].data_uri).then(function (r) { return r.text(); }).then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        out.summary.title = (doc.querySelector("h2") || {}).textContent || null;
        out.summary.tables = Array.from(doc.querySelectorAll("table")).map(function (t) {
          return Array.from(t.querySelectorAll("tbody tr")).map(function (tr) {
            return Array.from(tr.cells).map(function (td) { return td.textContent; });
          });
        });
        done();
      }, function (error) { out.summary.error = String(error); done(); });
    }
    Object.keys(results).forEach(function (path) {
      if (!results[path].mime_type.startsWith("image/")) return;
      waiting += 1;
      var img = new Image();
      img.onload = function () { out.images[path] = [img.naturalWidth, img.naturalHeight]; done(); };
      img.onerror = function () { out.images[path] = null; done(); };
      img.src = results[path].data_uri;
    });
    setTimeout(done, 500);
  }, 500);
});
</script>
"""


@dataclass
class View:
    """What the browser showed for one view of the report."""

    name: str
    screenshot: Path
    summary: dict | None = None
    frame: dict | None = None
    images: dict[str, list[int] | None] = field(default_factory=dict)


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def embedded(report: Path, name: str) -> object:
    """A JSON value the report embeds as `var <name> = ...;` in <script id="<name>">."""
    match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', report.read_text(), re.S)
    if match is None:
        raise ValueError(f"{report}: no <script id={name!r}> with the report's {name}")
    return json.loads(match.group(1))


def decode(data_uri: str) -> str:
    """The text of a data: URI (base64 or percent-encoded)."""
    head, _, body = data_uri.partition(",")
    raw = base64.b64decode(body) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(body)
    return raw.decode("utf-8")


def study_categories(report: Path) -> list[str]:
    return sorted(name for name in embedded(report, "categories") if name.startswith("Study"))


def summary_pages(report: Path) -> dict[str, str]:
    """{study category: its summary page's HTML}, as embedded in the report; a
    category without exactly one HTML item under the summary subcategory is an error."""
    categories, results = embedded(report, "categories"), embedded(report, "results")
    pages = {}
    for category in study_categories(report):
        items = categories[category].get(SUMMARY_SUBCATEGORY, [])
        if len(items) != 1 or results[items[0]]["mime_type"] != "text/html":
            raise AssertionError(f"{category}: {SUMMARY_SUBCATEGORY!r} should hold one HTML table, holds {items}")
        pages[category] = decode(results[items[0]]["data_uri"])
    return pages


def _run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def open_view(chromium: str, report: Path, out: Path, name: str, category: str | None) -> View:
    """Load the report opened on `category`'s summary (None: the landing page)."""
    script = DRIVER % {"category": json.dumps(category), "subcategory": json.dumps(SUMMARY_SUBCATEGORY),
                       "result_id": RESULT_ID}
    text = report.read_text()
    at = text.rindex("</body>")
    with tempfile.TemporaryDirectory() as scratch:
        driver = Path(scratch) / "report.html"
        driver.write_text(text[:at] + script + text[at:])
        view = View(name, out / f"{name}.png")
        shot = _run(chromium, Path(scratch) / "profile", f"--screenshot={view.screenshot}", driver.as_uri())
        if not view.screenshot.exists():
            raise RuntimeError(f"{chromium} wrote no screenshot of {name}:\n{shot.stderr[-3000:]}")
        dom = _run(chromium, Path(scratch) / "profile", "--dump-dom", driver.as_uri())
    match = re.search(rf'<pre id="{RESULT_ID}"[^>]*>(.*?)</pre>', dom.stdout, re.S)
    if match is None:
        raise RuntimeError(f"the report's app did not start in {chromium} ({name}):\n{dom.stderr[-3000:]}")
    found = json.loads(html.unescape(match.group(1)))
    view.summary, view.frame, view.images = found.get("summary"), found.get("frame"), found["images"]
    return view


def check(report: Path, out: Path, chromium: str) -> list[View]:
    """Every view of the report; raises AssertionError naming what a reader would miss."""
    out.mkdir(parents=True, exist_ok=True)
    views = [open_view(chromium, report, out, "landing", None)]
    for k, category in enumerate(study_categories(report), 1):
        views.append(open_view(chromium, report, out, f"study{k}-summary", category))
    problems = []
    for view in views:
        missing = sorted(path for path, size in view.images.items() if not size or min(size) < 50)
        if missing:
            problems.append(f"{view.name}: figures that did not load: {missing}")
        if not view.images:
            problems.append(f"{view.name}: the report holds no figure")
        if view.name != "landing":
            frame = view.frame or {}
            if not (frame.get("src_is_summary") and frame.get("width", 0) > 400 and frame.get("height", 0) > 300):
                problems.append(f"{view.name}: the summary is not shown in a visible frame: {frame}")
            if not (view.summary and view.summary.get("tables") and view.summary["tables"][0]):
                problems.append(f"{view.name}: the summary holds no table rows: {view.summary}")
    if problems:
        raise AssertionError("\n".join(problems))
    return views


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--out", type=Path, help="screenshots (default: report-check/ beside the report)")
    args = parser.parse_args()
    chromium = browser()
    if chromium is None:
        print("report-check: no Chromium found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    out = args.out or args.report.parent / "report-check"
    try:
        views = check(args.report, out, chromium)
    except AssertionError as error:
        print(f"report-check: {error}", file=sys.stderr)
        return 1
    for view in views:
        rows = len(view.summary["tables"][0]) if view.summary else 0
        print(f"{view.name}: {len(view.images)} figures loaded"
              + (f", summary {view.summary['title']!r} visible, {rows} rows" if view.summary else "")
              + f"; screenshot {view.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
