"""The report as a reader meets it: six pages linked, no code, no errors, figures embedded,
provenance, rendered by a real headless browser; no one's name anywhere; raw files untouched. Runs
the pipeline once."""

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.files import checksum_folder

from .conftest import DEMO, ROOT

pytestmark = pytest.mark.slow
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory):
    base = tmp_path_factory.mktemp("run")
    study = base / "demo"
    shutil.copytree(DEMO, study)
    before = checksum_folder(study)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "research.cli",
            "run",
            str(study),
            "--out",
            str(base / "report"),
            "--processed",
            str(base / "processed"),
        ],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr
    return {
        "report": base / "report",
        "processed": base / "processed",
        "study": study,
        "before": before,
        "stdout": out.stdout,
    }


def pages(report: Path) -> list[Path]:
    return sorted(report.glob("0*.html"))


def test_index_links_every_report_with_provenance(demo_report):
    index = (demo_report["report"] / "index.html").read_text("utf-8")
    links = re.findall(r"href='(0\d-[^']+\.html)'", index)
    assert (
        links == [p.name for p in pages(demo_report["report"])]
        and len(links) == len(NOTEBOOKS) >= 6
    )
    digest_line = re.search(r"research \S+ · study “Demo” · (\d+) raw files", index)
    assert digest_line and int(digest_line.group(1)) == len(demo_report["before"])
    for name, digest in demo_report["before"].items():
        assert name in index and digest in index  # every raw file's checksum is listed


def markup(html: str) -> str:
    """The page without its style and script blocks (their CSS names every kind of cell)."""
    return re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S | re.I)


def visible_text(html: str) -> str:
    """What a reader sees: the markup with its tags removed."""
    return re.sub(r"<[^>]+>", " ", markup(html))


def test_every_page_has_no_code_no_error_and_embedded_figures(demo_report):
    for page in pages(demo_report["report"]):
        html = page.read_text("utf-8")
        text = visible_text(html)
        assert "Traceback" not in text and "Error:" not in text, f"{page.name} shows an error"
        assert "application/vnd.jupyter.stderr" not in markup(html), (
            f"{page.name} shows stderr output"
        )
        assert "jp-InputArea-editor" not in markup(html), (
            f"{page.name} shows code"
        )  # code cells' editor area
        assert "jp-CodeCell" in markup(html)  # (the check above looks at real cells)
        assert (
            "from research import" not in text
            and "save_table(" not in text
            and "assert " not in text
        )
        assert "research 0." in text and "raw files" in text  # provenance footer
        for img in re.findall(r'<img[^>]+src="([^"]+)"', html):
            assert img.startswith("data:image/png;base64,"), (
                f"{page.name} links an image instead of embedding it"
            )
            assert len(base64.b64decode(img.split(",", 1)[1])) > 1000
    counts = {
        p.name: len(re.findall(r'src="data:image/png', p.read_text("utf-8")))
        for p in pages(demo_report["report"])
    }
    assert (
        counts["03-comparisons.html"] >= 6
    )  # Likert (2), forest, dumbbell, Bland-Altman, thought worlds
    assert counts["06-summary.html"] >= 4


def test_the_four_survey_figures_are_in_report_03(demo_report):
    text = visible_text((demo_report["report"] / "03-comparisons.html").read_text("utf-8"))
    for heading in (
        "Item by item",
        "Scale by scale",
        "Within the same company",
        "Do the two heads agree",
    ):
        assert heading in text
    figures = {p.name for p in (demo_report["report"] / "figures").glob("03_*.png")}
    assert {
        "03_likert_smr.png",
        "03_dumbbell.png",
        "03_bland_altman.png",
        "03_forest_scales.png",
    } <= figures


def test_contract_tables_have_spec_columns(demo_report):
    spec = {
        "data_quality": ["source", "record", "column", "value", "problem", "action"],
        "scores": ["respondent_id", "company_id", "role", "instrument"],
        "reliability": [
            "instrument",
            "scale",
            "group",
            "n",
            "n_items",
            "alpha",
            "ci_low",
            "ci_high",
            "omega",
        ],
        "item_comparison": [
            "instrument",
            "item",
            "subscale",
            "n_marketing",
            "n_sales",
            "mean_marketing",
            "mean_sales",
            "median_marketing",
            "median_sales",
            "test",
            "statistic",
            "p",
            "p_holm",
            "effect",
            "effect_size",
        ],
        "scale_comparison": [
            "instrument",
            "scale",
            "n_marketing",
            "n_sales",
            "mean_marketing",
            "sd_marketing",
            "mean_sales",
            "sd_sales",
            "test",
            "statistic",
            "df",
            "p",
            "p_holm",
            "effect",
            "effect_size",
            "ci_low",
            "ci_high",
        ],
        "dyad_comparison": [
            "instrument",
            "scale",
            "n_pairs",
            "mean_marketing",
            "mean_sales",
            "mean_diff",
            "test",
            "statistic",
            "df",
            "p",
            "p_holm",
            "wilcoxon_statistic",
            "wilcoxon_p",
            "effect",
            "effect_size",
        ],
        "company_summary": [
            "company_id",
            "instrument",
            "n_marketing",
            "n_sales",
            "total_marketing",
            "total_sales",
            "total",
            "gap",
            "band_marketing",
            "band_sales",
            "band",
            "recommendations",
        ],
        "theme_by_role": [
            "theme",
            "label",
            "interviews_marketing",
            "with_theme_marketing",
            "share_marketing",
            "interviews_sales",
            "with_theme_sales",
            "share_sales",
            "test",
            "p",
            "p_holm",
            "effect",
            "effect_size",
        ],
        "intercoder_agreement": ["theme", "coder_a", "coder_b", "units", "agreement", "kappa"],
        "segments": [
            "interview_id",
            "segment",
            "respondent_id",
            "role",
            "speaker",
            "text",
            "themes",
        ],
    }
    for table, columns in spec.items():
        frame = pd.read_csv(demo_report["report"] / "tables" / f"{table}.csv", dtype=str)
        assert list(frame.columns[: len(columns)]) == columns, table
    scores = pd.read_csv(demo_report["report"] / "tables" / "scores.csv", dtype=str)
    for col in ("communication", "planning", "smr_total", "band", "marketing_orientation"):
        assert col in scores.columns
    assert scores["respondent_id"].str.match(r"^R\d{4}$").all()  # ids kept as text


def test_raw_folder_byte_identical_and_processed_written(demo_report):
    assert checksum_folder(demo_report["study"]) == demo_report["before"]
    assert (demo_report["processed"] / "pseudonyms.parquet").is_file()
    for step, page in enumerate(
        pages(demo_report["report"]), start=1
    ):  # progress counted in report order
        assert f"[{step}/{len(NOTEBOOKS)}] {page.stem} started\n" in demo_report["stdout"]
        assert re.search(
            rf"^\[{step}/{len(NOTEBOOKS)}\] {page.stem} done \(\d+\.\d s\)$",
            demo_report["stdout"],
            re.M,
        )


def normalise(html: str) -> str:
    """A page without the time stamp of its provenance footer (the only thing allowed to change)."""
    return re.sub(r"run \d{4}-\d\d-\d\d \d\d:\d\d UTC", "run <time>", html)


def test_pages_are_the_same_as_with_one_kernel_per_notebook(demo_report, tmp_path):
    """The pool reuses warm kernels; a new kernel for every notebook must give the very same
    report."""
    from research.run.pipeline import run

    cold = run(
        demo_report["study"],
        out=tmp_path / "report",
        processed=tmp_path / "processed",
        progress=None,
        reuse_kernels=False,
    )
    warm = demo_report["report"]
    assert sorted(p.name for p in cold.glob("*.html")) == sorted(
        p.name for p in warm.glob("*.html")
    )
    for page in sorted(warm.glob("*.html")):
        assert normalise(page.read_text("utf-8")) == normalise(
            (cold / page.name).read_text("utf-8")
        ), page.name
    for figure in sorted((warm / "figures").glob("*.png")):
        assert figure.read_bytes() == (cold / "figures" / figure.name).read_bytes(), figure.name


def _texts_under(folder: Path):
    for path in folder.rglob("*"):
        if path.suffix in {".html", ".csv", ".md", ".txt", ".json"}:
            yield path, path.read_text("utf-8", errors="replace")
        elif path.suffix == ".qdpx":
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    yield path / member, zf.read(member).decode("utf-8", errors="replace")


def test_no_speaker_respondent_name_or_email_in_any_report_file(demo_report):
    from research.inputs.study import read_study

    study = read_study(demo_report["study"])
    names = set(study.turns["speaker"]) - {"Interviewer"}
    people = set(study.respondents["name"]) | set(study.respondents["email"]) | names
    assert len(names) >= 20
    found = []
    for path, text in _texts_under(demo_report["report"]):
        for person in people:
            if re.search(rf"(?<!\w){re.escape(person)}(?!\w)", text):
                found.append((path.name, person))
    assert not found, found[:5]
    # ...while the name map does exist, in the processed folder only
    mapping = pd.read_parquet(demo_report["processed"] / "pseudonyms.parquet")
    assert names <= set(mapping["speaker"])


def test_move_and_stay_rules_fire_and_are_explained(demo_report):
    rules = pd.read_csv(demo_report["report"] / "tables" / "company_rules.csv", dtype=str)
    fired = rules[rules["status"] == "fires"]
    assert (fired["action"] == "move").any() and (fired["action"] == "stay").any()
    html = (demo_report["report"] / "05-companies.html").read_text("utf-8")
    assert (
        "should move to a closer stage" in html and "can stay at its stage" in html
    )  # prose's words (e9047f6)


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _blank(png: Path) -> bool:
    import matplotlib.image as mpimg

    pixels = mpimg.imread(png)[..., :3]
    return float(pixels.std()) < 0.02 or float((pixels.mean(axis=2) < 0.9).mean()) < 0.005


@pytest.mark.parametrize("page", ["index.html", "06-summary.html"])
def test_real_headless_browser_renders_the_page(demo_report, tmp_path, page):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail(
                "chromium is missing on CI: .ci/run should have installed Debian's chromium"
            )
        pytest.skip("Debian's chromium is not installed on this machine (.ci/run installs it)")
    shot = tmp_path / "shot.png"
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1600",
        f"--screenshot={shot}",
        (demo_report["report"] / page).as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 5000
    assert not _blank(shot)


def test_blank_detector_is_not_fooled(tmp_path):
    import matplotlib.pyplot as plt

    plt.imsave(tmp_path / "white.png", np.ones((50, 50, 3)))
    assert _blank(tmp_path / "white.png")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_starts_and_lists_the_notebooks(tmp_path):
    port, token = _free_port(), "research-smoke-test"
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [
        str(jupyter),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT / 'notebooks'}",
        "--allow-root",
    ]
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
    }
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        listing = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=2
                ) as r:
                    listing = r.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, "JupyterLab did not answer on its port"
        import json

        names = {item["name"] for item in json.loads(listing)["content"]}
        assert {p.name for p in (ROOT / "notebooks").glob("0*.ipynb")} <= names
    finally:
        proc.terminate()
        proc.wait(timeout=30)
