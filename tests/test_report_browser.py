"""The HTML report in a real browser: headless Chromium driven by Selenium.

Every image must load (decoded, with a size), every figure must have a caption, and the
page must fetch nothing from the network: the browser's own record of resources
(``performance.getEntriesByType('resource')``) lists no request at all, and every
``src``/``href`` is a ``data:`` URI or an anchor. Screenshots of the page are saved
next to the report for a human to look at. The test is skipped, saying why, only when
no Chromium or driver can be had (``.ci/run`` installs Debian's ``chromium`` and
``chromium-driver`` when it can).
"""

from __future__ import annotations

import shutil

import pytest
from test_harness_plugins import EarlyTest, LearnedTest, NaiveTest

from boneflare.benchmarks.harness import BenchmarkConfig, run_benchmark
from boneflare.benchmarks.report import write_report

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = "chromedriver"


def _browser():
    """A headless Chromium with telemetry and background networking off, or a skip."""
    binary = next((shutil.which(b) for b in CHROMIUM if shutil.which(b)), None)
    driver = shutil.which(DRIVER)
    if binary is None or driver is None:
        pytest.skip(
            "no headless browser: install Debian's chromium and chromium-driver "
            "(.ci/run does when apt-get is available)"
        )
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--metrics-recording-only",
        "--no-first-run",
        "--disable-breakpad",
        "--disable-domain-reliability",
        "--window-size=1280,2000",
    ):
        options.add_argument(flag)
    try:
        return webdriver.Chrome(service=Service(driver), options=options)
    except Exception as exc:  # a browser that cannot start is no browser
        pytest.skip(f"headless Chromium could not start: {type(exc).__name__}: {exc}")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    config = BenchmarkConfig(
        classifiers=[NaiveTest, EarlyTest, LearnedTest],
        grid=["ct.interval_days=42,56"],
        replicates=2,
        patients=150,
        seed=4,
    )
    run = run_benchmark(config, tmp_path_factory.mktemp("browser") / "run")
    folder = write_report(run.path, appendix_patients=300)
    browser = _browser()
    try:
        browser.get((folder / "index.html").as_uri())
        yield browser, folder
    finally:
        browser.quit()


def test_every_image_loads_and_has_a_caption(page):
    browser, _ = page
    images = browser.execute_script(
        "return Array.from(document.images).map(i => "
        "[i.complete, i.naturalWidth, i.naturalHeight, i.closest('figure') !== null])"
    )
    assert len(images) >= 8  # 4 per scenario point and task, sweeps, appendix
    for complete, width, height, in_figure in images:
        assert complete and width > 100 and height > 100 and in_figure
    captions = browser.execute_script(
        "return Array.from(document.querySelectorAll('figure')).map(f => "
        "(f.querySelector('figcaption') || {textContent: ''}).textContent.trim().length)"
    )
    assert len(captions) == len(images)
    assert min(captions) > 80


def test_the_page_fetches_nothing_from_the_network(page):
    browser, _ = page
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert fetched == []
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('[src],[href]'))"
        ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
    )
    assert all(link.startswith(("data:", "#")) for link in links)


def test_screenshots_of_the_page_are_saved(page):
    browser, folder = page
    height = browser.execute_script("return document.body.scrollHeight")
    shots = []
    for k, top in enumerate(range(0, height, 2000)):
        browser.execute_script(f"window.scrollTo(0, {top})")
        path = folder / f"screenshot_{k:02d}.png"
        assert browser.save_screenshot(str(path))
        shots.append(path)
    assert shots and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in shots)
