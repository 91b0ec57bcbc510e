"""The HTML report in a real headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it).

Driven over the DevTools protocol through ``--remote-debugging-pipe`` by
:mod:`gait.report._browser` (standard library only). Skips only where no Chromium is installed.
"""

from __future__ import annotations

import struct

import pytest

from gait.report import html as rhtml
from gait.report import tables
from gait.report._browser import Chromium, find_chromium
from test_report_fixtures import known_result

EVIL = "<script>alert(1)</script>"

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="no Chromium browser is installed here and none could be installed "
           "(install Debian's package: apt-get install chromium; .ci/run does this in CI)",
)


@pytest.fixture(scope="module")
def browser():
    with Chromium(timeout_s=60) as br:
        yield br


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "out"
    r = known_result(path="/data/<img src=x onerror=alert(3)>.csv",
                     device=f'{EVIL}"><img src=x onerror=alert(2)>')
    for s in r.steps[150:153]:  # all three directions appear in every table and figure
        s.direction = "unknown"
    runs = [{"key": "a", "start_time": "2026-11-20T08:00:00+00:00", "mean_cadence_spm": 120.0,
             "backward_share": 0.1, "path": f"/x/{EVIL}"},
            {"key": "b", "start_time": "2026-11-24T10:00:00+00:00", "mean_cadence_spm": 126.7,
             "backward_share": 0.5, "path": "/data/x.csv"}]
    files = rhtml.write_report(r, out, source_name=f"{EVIL}.csv", history_runs=runs,
                               current_key="b", dpi=72)
    return files


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_report_loads_cleanly_offline_and_renders_every_figure(browser, report):
    url = report.html.resolve().as_uri()
    page = browser.open(url, width=1200, height=900)
    assert page.console_errors == []
    assert page.dialogs == []
    assert page.requests and all(u == url or u.startswith("data:") for u in page.requests), page.requests
    imgs = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(imgs) == len(report.figures) == 5
    assert all(c and w > 0 and h > 0 for c, w, h in imgs)
    # the escaped names are shown as text, nothing was injected
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    assert page.evaluate("document.title") == f"Cadence report \u2013 {EVIL}.csv"
    assert page.evaluate("document.querySelector('h1 .file').textContent") == f"{EVIL}.csv"
    meta = page.evaluate("document.getElementById('meta').innerText")
    assert EVIL in meta and "onerror=alert(2)" in meta
    assert page.evaluate("document.querySelectorAll('img[onerror]').length") == 0
    # the layout is what we built: nothing wider than the window, the seven summary cards in
    # one row at 1200 px
    assert page.evaluate("document.documentElement.scrollWidth") == 1200
    tops = page.evaluate("[...document.querySelectorAll('#cards .card')].map(c => c.getBoundingClientRect().top)")
    assert len(tops) == 7 and len(set(tops)) == 1
    png = page.screenshot(full_page=True)
    w, h = _png_size(png)
    assert w == 1200 and h > 2000
    assert len(png) > 50_000  # a real, non-blank rendering


def test_index_page_loads_and_links(browser, report, tmp_path):
    entries = [dict(tables.run_record(known_result()), name=f"{EVIL}.csv",
                    href=report.html.resolve().as_uri()),
               {"name": "broken.csv", "error": f"not a recording {EVIL}"}]
    idx = rhtml.write_index(entries, tmp_path)
    page = browser.open(idx.resolve().as_uri(), width=900, height=600)
    assert page.console_errors == [] and page.dialogs == []
    assert all(u == idx.resolve().as_uri() for u in page.requests)
    assert page.evaluate("document.querySelectorAll('#index a').length") == 1
    assert page.evaluate("document.querySelector('#index a').textContent") == f"{EVIL}.csv"
    w, h = _png_size(page.screenshot(full_page=False))
    assert (w, h) == (900, 600)


def test_the_harness_sees_scripts_errors_dialogs_and_requests(browser, tmp_path):
    """Negative control: a page that misbehaves is caught by every check used above."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><title>bad</title><img src='http://127.0.0.1:9/x.png'>"
                   "<script>console.error('boom'); alert('injected');</script>")
    page = browser.open(bad.resolve().as_uri(), width=400, height=300)
    assert page.dialogs == ["injected"]
    assert any("boom" in e for e in page.console_errors)
    assert "http://127.0.0.1:9/x.png" in page.requests
    assert page.evaluate("document.images[0].naturalWidth") == 0


def test_cli_report_of_a_hostile_recording(browser, tmp_path):
    """End to end: a recording whose file name and device name are HTML, through the reader,
    the analyzer and ``gait report``, opened in the browser."""
    import json

    from gait.cli import main
    from gait.sim import simulate, write_simulation

    sim = simulate("stand:1,walk:14:forward:110,stand:1", fs_hz=50.0, seed=3)
    src, _ = write_simulation(tmp_path / "plain.csv", sim)
    lines = src.read_text().splitlines(keepends=True)
    header = json.loads(lines[1][2:])
    header["device"] = EVIL
    lines[1] = "# " + json.dumps(header) + "\n"
    hostile = tmp_path / "<img src=x onerror=alert(1)>.csv"
    hostile.write_text("".join(lines))
    out = tmp_path / "out"
    assert main(["report", str(hostile), "-o", str(out), "--no-history", "--dpi", "40"]) == 0
    url = (out / "report.html").resolve().as_uri()
    page = browser.open(url, width=1200, height=900)
    assert page.console_errors == [] and page.dialogs == []
    assert all(u == url or u.startswith("data:") for u in page.requests), page.requests
    assert page.evaluate("document.querySelectorAll('script, img[onerror]').length") == 0
    assert page.evaluate("document.querySelector('h1 .file').textContent") == hostile.name
    assert EVIL in page.evaluate("document.getElementById('meta').innerText")
    imgs = page.evaluate("[...document.images].map(i => i.naturalWidth)")
    assert len(imgs) >= 3 and all(w > 0 for w in imgs)
    assert page.evaluate("document.documentElement.scrollWidth") == 1200  # no overflow
