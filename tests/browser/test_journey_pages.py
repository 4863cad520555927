"""The console's operations pages in Chromium: the dead letters counted per queue, an agent
refused the admin's pages but shown /health, the integration form's errors tied to their
fields, the Service provider choice showing only its own group, and axe-core quiet (nothing
serious or critical) on each of these pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.browser_rig import serious_violations, sign_in
from tests.browser.console_process import ADMIN, AGENT
from tests.browser.journey_rig import Journey

#: (the path, the page's heading) of the admin's pages checked with axe-core here.
PAGES = [
    ("/admin/integrations", "Integrations"),
    ("/admin/integrations/new", "New integration"),
    ("/quarantine", "Quarantine"),
    ("/dead-letters", "Dead letters"),
    ("/health", "Health"),
]


@pytest.mark.parametrize(("path", "heading"), PAGES, ids=[p[0] for p in PAGES])
def test_axe_finds_no_serious_violation(journey_page: Page, path: str, heading: str) -> None:
    page = journey_page
    sign_in(page, ADMIN[0], ADMIN[3])
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert serious_violations(page) == []


def test_the_dead_letters_page_counts_each_queue(journey_page: Page) -> None:
    page = journey_page
    sign_in(page, ADMIN[0], ADMIN[3])
    page.get_by_role("link", name="Dead letters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dead letters")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text(re.compile(r": \d+ waiting")).first).to_be_visible()


def test_the_form_ties_its_error_to_the_field(journey_page: Page, journey: Journey) -> None:
    page = journey_page
    sign_in(page, ADMIN[0], ADMIN[3])
    page.goto("/admin/integrations/new")
    page.locator("form.stacked").first.evaluate("form => form.noValidate = true")
    page.get_by_label("Name", exact=True).fill("Refused")
    page.get_by_label("Client ID").fill(journey.sim.client_id)
    page.get_by_label("Client secret").fill(journey.sim.client_secret)
    page.get_by_label("Tenant ID").fill(journey.sim.tenant_id)
    page.get_by_label("Mailbox address").fill("not an address")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("The integration was not saved")
    address = page.get_by_label("Mailbox address")
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(address).to_have_accessible_description(re.compile("address"))
    described = address.get_attribute("aria-describedby") or ""
    assert "address-error" in described.split(), described
    assert serious_violations(page) == []


def test_an_agent_is_refused_the_admin_pages_but_sees_health(journey_page: Page) -> None:
    page = journey_page
    sign_in(page, AGENT[0], AGENT[3])
    for path in ("/admin/integrations", "/quarantine", "/dead-letters"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    answer = page.goto("/health")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Health")


def test_the_provider_choice_shows_only_its_fields(journey_page: Page) -> None:
    page = journey_page
    sign_in(page, ADMIN[0], ADMIN[3])
    page.goto("/admin/integrations/new")
    provider, client_id = page.get_by_label("Service provider"), page.get_by_label("Client ID")
    key = page.get_by_label("Service account key (JSON)")
    expect(client_id).to_be_visible()
    expect(key).to_be_hidden()
    provider.select_option("google")
    expect(key).to_be_visible()
    expect(key).to_have_attribute("type", "file")
    expect(client_id).to_be_hidden()
    assert serious_violations(page) == []
    provider.select_option("microsoft")
    expect(client_id).to_be_visible()
    expect(key).to_be_hidden()
