"""An admin's integration in Chromium, against the Graph simulator: made with the form (by its
labels), Test connection all ✓ with JavaScript (steps streamed into the page) and without
(the POST renders them), then a wrong secret fails the token step with its fix."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.browser_rig import serious_violations, sign_in
from tests.browser.console_process import ADMIN
from tests.browser.journey_rig import HELPDESK, Journey
from tests.browser.journey_steps import expect_all_passed, fill_integration, open_integration, step

NAME = "Helpdesk"

#: Records how many steps the list holds each time the script adds to it: more than one
#: count means the steps appeared one by one as the stream brought them.
WATCH_STEPS = """list => {
  window.stepsSeen = [];
  new MutationObserver(() => window.stepsSeen.push(list.children.length))
    .observe(list, { childList: true });
}"""


def test_an_admin_creates_an_integration_and_tests_it(journey_page: Page, journey: Journey) -> None:
    page = journey_page
    sign_in(page, ADMIN[0], ADMIN[3])
    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="+ Create New").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New integration")
    fill_integration(page, journey.sim, NAME, HELPDESK)
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    url = page.url
    page.locator("#test-results").evaluate(WATCH_STEPS)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("button", name="Test connection")).to_be_enabled()
    expect_all_passed(page)
    assert page.url == url, "the script shows the steps without leaving the page"
    seen = page.evaluate("window.stepsSeen")
    assert len({n for n in seen if n}) >= 2, f"the steps came all at once: {seen}"
    expect(page.get_by_role("heading", name="Result")).to_have_count(0)
    assert serious_violations(page) == []


def test_test_connection_without_javascript_renders_every_step(
    journey_page_without_js: Page, journey: Journey
) -> None:
    page = journey_page_without_js
    sign_in(page, ADMIN[0], ADMIN[3])
    _ensure_helpdesk(page, journey)
    open_integration(page, NAME)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("heading", name="Result")).to_be_visible()
    expect_all_passed(page)  # (axe-core needs a script: the page with JS is checked above)


def test_a_wrong_secret_fails_the_token_step_with_its_fix(
    journey_page: Page, journey: Journey
) -> None:
    page = journey_page
    sign_in(page, ADMIN[0], ADMIN[3])
    _ensure_helpdesk(page, journey)
    open_integration(page, NAME)
    page.get_by_label("Client secret").fill("sim-this-is-not-the-secret")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    page.get_by_role("button", name="Test connection").click()
    token = step(page, "token")
    expect(token).to_have_class("step-failed")
    expect(token.locator(".fix")).to_contain_text("secret")
    expect(step(page, "mailbox")).to_have_class("step-unknown")
    page.goto("/admin/integrations")
    expect(page.get_by_role("row").filter(has_text=HELPDESK)).to_contain_text("✗ failed")
    assert serious_violations(page) == []


def _ensure_helpdesk(page: Page, journey: Journey) -> None:
    """The Helpdesk integration, made with the form unless an earlier test made it."""
    page.goto("/admin/integrations")
    if page.get_by_role("link", name=NAME, exact=True).count() == 0:
        page.get_by_role("link", name="+ Create New").click()
        fill_integration(page, journey.sim, NAME, HELPDESK)
