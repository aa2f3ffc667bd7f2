"""Every page of the report as a reader sees it, in Debian's headless Chromium driven over the
DevTools protocol: at a laptop's 1366×768 and printed to A4, no element may stick out of the page's
main column, no element may hide content it cannot show (a cut-off table or quote), and opening a
page may not ask any other host for anything (the browser resolves no host name but localhost, and
every request is logged).

The demo and a custom-instrument study (7 points, reverse keys, no interviews, no stages) are both
checked.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.report.pages import external_requests

from .conftest import DEMO, write_study

pytestmark = pytest.mark.slow

LAPTOP = (1366, 768)
A4_CSS_PX = 794  # 210 mm at 96 px per inch: Chromium lays a printed A4 page out at this width

#: Runs in the page: every element of the main column whose right edge lies beyond the column's, or
#: whose content is wider than its box while it hides or scrolls the rest. Returns a JSON verdict.
MEASURE = (
    r"""
(() => {
  const main = document.querySelector('main') || document.body;
  const box = main.getBoundingClientRect();
  const style = getComputedStyle(main);
  const right = box.right - parseFloat(style.paddingRight) + 1;
  const left = box.left + parseFloat(style.paddingLeft) - 1;
  const bad = [];
  const describe = el => {
    const cls = (el.className && el.className.baseVal === undefined) ? """
    r"""String(el.className).split(' ')[0] : '';
    return el.tagName.toLowerCase() + (cls ? '.' + cls : '') + ' "' +
      (el.textContent || el.alt || '').trim().replace(/\s+/g, ' ').slice(0, 50) + '"';
  };
  for (const el of main.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || cs.position === 'fixed') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > right || r.left < left) {
      bad.push({what: describe(el), left: Math.round(r.left), """
    r"""right: Math.round(r.right), column: Math.round(right)});
    } else if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 &&
               ['hidden', 'auto', 'scroll', 'clip'].includes(cs.overflowX)) {
      bad.push({what: describe(el), scrollWidth: el.scrollWidth, clientWidth: el.clientWidth});
    }
  }
  return JSON.stringify({column: Math.round(right - left), document: """
    r"""document.documentElement.scrollWidth,
                         viewport: window.innerWidth, elements: main.querySelectorAll('*').length,
                         overflow: bad.slice(0, 10), n_overflow: bad.length,
                         images: [...document.images].filter(i => !i.complete || """
    r"""!i.naturalWidth).length,
                         no_alt: [...document.images].filter(i => !(i.alt || '').trim() || """
    r"""/no description/i.test(i.alt)).length,
                         sortable: document.querySelectorAll('table.sortable').length,
                         tools: document.querySelectorAll('.table-tools').length});
})()
"""
)


class DevTools:
    """A minimal DevTools-protocol client over one websocket (``websocket-client``, which Jupyter
    installs)."""

    def __init__(self, browser: str, profile: Path):
        import websocket

        self.proc = subprocess.Popen(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.is_file() and len(port_file.read_text().split()) >= 2:
                break
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}{path}", timeout=60, suppress_origin=True
        )
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime"):
            self.call(f"{domain}.enable", session=True)

    def call(self, method: str, session: bool = False, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(e.get("method") == event for e in self.events):
                return
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(event)

    def open(self, url: str, width: int, height: int, media: str = "") -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Emulation.setEmulatedMedia", session=True, media=media)
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")

    def measure(self) -> dict:
        return json.loads(
            self.call("Runtime.evaluate", session=True, expression=MEASURE, returnByValue=True)[
                "result"
            ]["value"]
        )

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def pdf(self) -> bytes:
        result = self.call(
            "Page.printToPDF",
            session=True,
            paperWidth=8.27,
            paperHeight=11.69,
            preferCSSPageSize=True,
            printBackground=True,
        )
        return base64.b64decode(result["data"])

    def screenshot(self, path: Path) -> None:
        data = self.call(
            "Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True
        )["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - the browser may close the socket before answering
            pass
        self.ws.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail(
                "chromium is missing on CI: .ci/run should have installed Debian's chromium"
            )
        pytest.skip("Debian's chromium is not installed on this machine (.ci/run installs it)")
    return browser


def local(url: str) -> bool:
    return url.startswith(("file:", "data:", "about:", "blob:")) or url.split("/")[2].split(":")[
        0
    ] in ("localhost", "127.0.0.1")


SEVEN = {
    "id": "climate",
    "title": "Interface climate (7-point)",
    "response_scale": {"min": 1, "max": 7},
    "subscales": [
        {"id": "openness", "label": "Openness"},
        {"id": "rivalry", "label": "Rivalry (low is good)"},
    ],
    "items": [
        {
            "id": "C1",
            "subscale": "openness",
            "text": "We share what we learn from customers with the other "
            "function within days, not weeks or months.",
        },
        {"id": "C2", "subscale": "openness", "text": "Our two functions plan campaigns together."},
        {
            "id": "C3",
            "subscale": "openness",
            "reverse": True,
            "text": "Information stays inside each team.",
        },
        {
            "id": "C4",
            "subscale": "rivalry",
            "text": "When a deal is lost, each side blames the other.",
        },
        {
            "id": "C5",
            "subscale": "rivalry",
            "reverse": True,
            "text": "We settle disagreements quickly.",
        },
        {"id": "C6", "subscale": "rivalry", "text": "Each side competes for the same budget."},
    ],
    "total": {"id": "climate_total", "label": "Climate score"},
}


def custom_study(folder: Path) -> Path:
    rng = np.random.default_rng(3)
    rows, answers = [], []
    for c in range(16):
        for role in ("Vertrieb", "Marketing"):
            rid = f"{len(rows) + 1:03d}"
            rows.append({"respondent_id": rid, "company_id": f"Firma {c:02d}", "role": role})
            level = rng.uniform(2, 6) + (0.8 if role == "Marketing" else 0)
            answers.append(
                {
                    "id": rid,
                    **{
                        f"C{k}": int(np.clip(np.rint(level + rng.normal(0, 1)), 1, 7))
                        for k in range(1, 7)
                    },
                }
            )
    return write_study(
        folder,
        pd.DataFrame(rows),
        pd.DataFrame(answers),
        [SEVEN],
        survey_id_column="id",
        roles={"marketing": ["Marketing"], "sales": ["Vertrieb"]},
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The demo and the custom study, each run by ``research run`` (both at once)."""
    base = tmp_path_factory.mktemp("browser")
    shutil.copytree(DEMO, base / "demo")
    studies = {"demo": base / "demo", "custom": custom_study(base / "custom")}
    procs = {
        name: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "research.cli",
                "run",
                str(folder),
                "--jobs",
                "2",
                "--out",
                str(base / f"{name}-report"),
                "--processed",
                str(base / f"{name}-data"),
            ],
            cwd=base,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, folder in studies.items()
    }
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"{name}: {err}"
    return {name: base / f"{name}-report" for name in studies}


@pytest.fixture(scope="module")
def browser():
    profile = Path(tempfile.mkdtemp(prefix="research-chromium-"))
    tools = DevTools(chromium(), profile)
    yield tools
    tools.close()
    shutil.rmtree(profile, ignore_errors=True)


def all_pages(reports) -> list[tuple[str, Path]]:
    return [
        (name, page) for name, folder in reports.items() for page in sorted(folder.glob("*.html"))
    ]


def test_pages_ask_no_other_host_for_anything(reports):
    """Statically: no script, image, style sheet, CSS url() or @import from another host."""
    found = {
        f"{name}/{page.name}": external_requests(page.read_text("utf-8"))
        for name, page in all_pages(reports)
    }
    assert len(found) >= 16
    assert not {k: v for k, v in found.items() if v}


def test_every_page_fits_a_laptop_and_a4_and_fetches_nothing(reports, browser, tmp_path):
    """In the browser: at 1366×768 and as printed to A4, nothing sticks out of the main column or is
    cut off; every image has loaded and says what it shows; no request leaves the machine; the PDF
    is made."""
    problems, widths = [], {}
    for name, page in all_pages(reports):
        key = f"{name}/{page.name}"
        browser.open(page.as_uri(), *LAPTOP)
        screen = browser.measure()
        outside = [u for u in browser.requests() if not local(u)]
        browser.open(
            page.as_uri(), A4_CSS_PX - 2 * 57, 1100, media="print"
        )  # 15 mm margins each side
        printed = browser.measure()
        pdf = browser.pdf()
        widths[key] = (screen["column"], screen["document"], printed["column"], printed["document"])
        if screen["n_overflow"] or screen["document"] > LAPTOP[0]:
            problems.append((key, "screen", screen["n_overflow"], screen["overflow"][:3]))
        if printed["n_overflow"] or printed["document"] > printed["viewport"]:
            problems.append((key, "A4", printed["n_overflow"], printed["overflow"][:3]))
        if screen["images"] or screen["no_alt"]:
            problems.append((key, "images", screen["images"], screen["no_alt"]))
        if outside:
            problems.append((key, "requests", outside))
        if not pdf.startswith(b"%PDF") or len(pdf) < 5000:
            problems.append((key, "pdf", len(pdf)))
    print(json.dumps(widths, indent=1))
    assert not problems, problems


def test_long_tables_sort_and_filter_without_a_library(reports, browser):
    page = reports["demo"] / "03-comparisons.html"
    browser.open(page.as_uri(), *LAPTOP)
    state = browser.measure()
    assert state["sortable"] >= 1 and state["tools"] == state["sortable"]
    script = r"""(() => {
      const t = document.querySelector('table.sortable'); const rows = t.tBodies[0].rows.length;
      const box = t.closest('.apa-table').previousElementSibling.querySelector('input');
      box.value = 'zzzz-no-such-row'; box.dispatchEvent(new Event('input'));
      const hidden = t.querySelectorAll('tr.filtered-out').length;
      box.value = ''; box.dispatchEvent(new Event('input'));
      const th = t.tHead.rows[0].cells[t.tHead.rows[0].cells.length - 1]; th.click(); th.click();
      return JSON.stringify({rows, hidden, sort: th.getAttribute('aria-sort'),
                             shown: t.querySelectorAll('tr.filtered-out').length});
    })()"""
    result = json.loads(
        browser.call("Runtime.evaluate", session=True, expression=script, returnByValue=True)[
            "result"
        ]["value"]
    )
    assert (
        result["hidden"] == result["rows"] > 5
        and result["shown"] == 0
        and result["sort"] == "descending"
    )
