"""01-repositories.ipynb in JupyterLab, in headless Chromium: run it all, then use the repository browser."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "01-repositories.ipynb"
WIDGET_ERROR = "Error displaying widget"


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def wait_for_kernel_idle(page) -> None:
    page.locator(".jp-StatusBar-TextItem", has_text="Python 3 (ipykernel) | Idle").first.wait_for(timeout=120_000)


def test_run_all_then_create_through_the_widget(page, jupyter_server):
    page.goto(jupyter_server.lab_url(NOTEBOOK))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    wait_for_kernel_idle(page)
    assert page.get_by_text(WIDGET_ERROR).count() == 0  # stored outputs render from the saved widget state

    # clear the stored outputs first, so that what is waited for below can only come from this run
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output').length === 0")
    menu(page, "Run", "Run All Cells")
    # the last exercise's check is printed by the last code cell to run
    page.get_by_text("is still there.").wait_for(timeout=180_000)
    wait_for_kernel_idle(page)
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))",
        timeout=120_000,
    )

    browser_widget = page.locator(".ecrlab-repository-browser")
    browser_widget.wait_for()
    assert browser_widget.count() == 1
    assert "No repositories yet" in browser_widget.inner_text()
    name = browser_widget.get_by_placeholder("e.g. team/web-app")
    create = browser_widget.get_by_role("button", name="Create")

    # bad input: ECR's message inside the widget, no traceback
    name.fill("MyRepository")
    name.press("Enter")  # the Text widget syncs its value on Enter or blur
    create.click()
    browser_widget.get_by_text("InvalidParameterException").wait_for()
    assert "Traceback" not in page.locator(".jp-NotebookPanel").inner_text()

    # good input: the repository appears in the table
    name.fill("shop/cart")
    name.press("Enter")
    create.click()
    browser_widget.locator("table.ecrlab-repositories td", has_text="shop/cart").first.wait_for()
    assert "Created 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/cart" in browser_widget.inner_text()

    assert page.get_by_text(WIDGET_ERROR).count() == 0
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
