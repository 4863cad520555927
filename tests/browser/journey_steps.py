"""What the journey's tests do in the console's pages: the integration form filled by its
labels, and the steps of Test connection read off the page."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from libs.graphsim.testing import SimHandle

#: Every step Test connection runs for an integration without Send As or a send test.
PASSING_STEPS = ("token", "admin consent", "Mail.ReadWrite", "mailbox", "folder")


def fill_integration(page: Page, sim: SimHandle, name: str, address: str) -> None:
    """The new-integration form filled for the simulator by its labels, then saved."""
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Client ID").fill(sim.client_id)
    page.get_by_label("Client secret").fill(sim.client_secret)
    page.get_by_label("Tenant ID").fill(sim.tenant_id)
    page.get_by_label("Mailbox address").fill(address)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")


def open_integration(page: Page, name: str) -> int:
    """The integration's page, from the list; its id."""
    page.goto("/admin/integrations")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    found = re.search(r"/admin/integrations/(\d+)", page.url)
    assert found is not None, page.url
    return int(found.group(1))


def step(page: Page, name: str) -> Locator:
    """The result's item of one step, by its name."""
    results = page.locator("#test-results")
    return results.get_by_role("listitem").filter(
        has=page.locator("strong", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def expect_all_passed(page: Page) -> None:
    for name in PASSING_STEPS:
        expect(step(page, name)).to_have_class("step-ok")
    expect(page.locator("#test-results li.step-failed")).to_have_count(0)
