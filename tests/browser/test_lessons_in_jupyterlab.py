"""The lessons in JupyterLab, in headless Chromium: run them all, see the widgets render, use the browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

WIDGET_ERROR = "Error displaying widget"
# the notebook in the active tab (others, if any, stay in the DOM hidden)
PANEL_SELECTOR = ".jp-NotebookPanel:not(.lm-mod-hidden)"
PANEL = f"document.querySelector('{PANEL_SELECTOR}')"


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def wait_for_kernel_idle(page) -> None:
    page.locator(".jp-StatusBar-TextItem", has_text="Python 3 (ipykernel) | Idle").first.wait_for(timeout=120_000)


def rendered(page):
    """What the notebook shows: rendered markdown and outputs (not the table of contents or a cell's editor,
    which hold the same words, hidden)."""
    return page.locator(f"{PANEL_SELECTOR} :is(.jp-RenderedMarkdown, .jp-OutputArea-output)")


def open_and_run_all(page, server, notebook: str, last_output: str) -> None:
    """Open ``notebook``, check its stored outputs render, then clear them and Run > Run All Cells."""
    page.goto(server.lab_url(notebook))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    wait_for_kernel_idle(page)
    rendered(page).get_by_text(last_output).first.wait_for()  # stored outputs show before any run
    assert page.get_by_text(WIDGET_ERROR).count() == 0
    # clear the stored outputs first, so that what is waited for below can only come from this run
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => {PANEL}.querySelectorAll('.jp-OutputArea-output').length === 0")
    menu(page, "Run", "Run All Cells")
    rendered(page).get_by_text(last_output).first.wait_for(timeout=180_000)
    wait_for_kernel_idle(page)
    page.wait_for_function(
        f"() => ![...{PANEL}.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))",
        timeout=120_000,
    )


def assert_clean(page) -> None:
    assert page.get_by_text(WIDGET_ERROR).count() == 0
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert "Traceback" not in page.locator(".jp-NotebookPanel").inner_text()


def test_start_here_shows_the_lab_status(page, jupyter_server):
    open_and_run_all(page, jupyter_server, "00-start-here.ipynb", "one day later: 2026-01-06T09:00:00Z")
    status = page.locator(".ecrlab-lab-status")
    status.wait_for()
    text = status.inner_text()
    assert "123456789012.dkr.ecr.us-east-1.amazonaws.com" in text
    assert "http://127.0.0.1:" in text
    assert "2026-01-06T09:00:00Z (deterministic)" in text  # it followed the clock cell
    assert_clean(page)


def test_repositories_run_all_then_create_through_the_widget(page, jupyter_server):
    open_and_run_all(page, jupyter_server, "01-repositories.ipynb", "is still there.")
    widget = page.locator(".ecrlab-repository-browser")
    widget.wait_for()
    assert widget.count() == 1
    # the table follows the engine's event stream: repositories the cells below it created are listed
    rows = widget.locator("table.ecrlab-repositories tr[data-repository]")
    rows.first.wait_for()
    assert rows.count() >= 1 and "No repositories yet" not in widget.inner_text()
    name = widget.get_by_placeholder("e.g. team/web-app")
    create = widget.get_by_role("button", name="Create")

    # bad input: ECR's message inside the widget, no traceback
    name.fill("MyRepository")
    name.press("Enter")  # the Text widget syncs its value on Enter or blur
    create.click()
    widget.get_by_text("InvalidParameterException").wait_for()

    # good input: the repository appears in the table
    name.fill("shop/cart")
    name.press("Enter")
    create.click()
    widget.locator("table.ecrlab-repositories td", has_text="shop/cart").first.wait_for()
    assert "Created 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/cart" in widget.inner_text()
    assert_clean(page)


LESSONS = sorted(p.name for p in (Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]-*.ipynb"))


@pytest.mark.parametrize("notebook", LESSONS)
def test_every_lesson_runs_and_renders_every_widget(page, jupyter_server, notebook):
    """Run All on each lesson: every widget it displays renders as a widget, none as an error."""
    # the last cell of every lesson is a markdown "What's next" heading, shown before and after the run
    open_and_run_all(page, jupyter_server, notebook, "What's next")
    stored = _widget_outputs(ROOT_NOTEBOOKS / notebook)
    rendered = page.locator(f"{PANEL_SELECTOR} .jupyter-widgets")
    page.wait_for_function(
        f"() => document.querySelectorAll('{PANEL_SELECTOR} .jp-OutputArea-output .jupyter-widgets').length >= {stored}",
        timeout=60_000,
    )
    assert rendered.count() >= stored
    assert_clean(page)


ROOT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _widget_outputs(path: Path) -> int:
    """How many widget views the executed lesson holds (one per displayed widget)."""
    cells = json.loads(path.read_text())["cells"]
    return sum(
        1
        for c in cells
        if c["cell_type"] == "code"
        for o in c["outputs"]
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    )
