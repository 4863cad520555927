"""The console's forms in Chromium: a forged CSRF token refused, an admin creating a user (seen
in the list and in the audit log), and every page working with JavaScript switched off."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Locator, Page, expect

from tests.browser.browser_rig import sign_in, sign_out
from tests.browser.console_process import ADMIN

CSRF_REFUSED = (
    "This form has expired or did not come from this site: reload the page and send it again."
)


def _create_user(page: Page, username: str, display_name: str, password: str) -> None:
    page.goto("/admin/users")
    form = page.locator("form[action='/admin/users']")
    form.get_by_label("Username", exact=True).fill(username)
    form.get_by_label("Display name").fill(display_name)
    form.get_by_label("Role").select_option("agent")
    form.get_by_label(re.compile("^Initial password")).fill(password)
    form.get_by_role("button", name="Create user").click()


def _row_of(page: Page, username: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=username, exact=True))


def test_a_form_with_a_wrong_csrf_token_is_refused(page: Page) -> None:
    sign_in(page, ADMIN[0], ADMIN[3])
    username = f"forged{uuid.uuid4().hex[:6]}"
    page.goto("/admin/users")
    form = page.locator("form[action='/admin/users']")
    form.locator("input[name='csrf_token']").evaluate("field => { field.value = 'forged'; }")
    form.get_by_label("Username", exact=True).fill(username)
    form.get_by_label(re.compile("^Initial password")).fill("a forged request's password")
    form.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(CSRF_REFUSED)
    page.goto("/admin/users")
    expect(_row_of(page, username)).to_have_count(0)


def test_an_admin_creates_a_user_and_sees_it_listed_and_audited(page: Page) -> None:
    sign_in(page, ADMIN[0], ADMIN[3])
    username = f"carla{uuid.uuid4().hex[:6]}"
    password = "carla's first password"
    _create_user(page, username, "Carla Agent", password)
    expect(page.get_by_role("status")).to_contain_text(username)
    row = _row_of(page, username)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell", name="Carla Agent")).to_be_visible()
    expect(row.get_by_label(f"Role of {username}")).to_have_value("agent")
    page.get_by_role("link", name="Audit log").click()
    entry = page.get_by_role("row").filter(has_text=username).first
    expect(entry).to_contain_text("user created")
    expect(entry).to_contain_text(ADMIN[0])
    expect(page.locator("main")).not_to_contain_text(password)
    signed_in = page.get_by_role("row").filter(has_text="signed in").first
    expect(signed_in).to_contain_text("client: 2001:db8::")  # this context's own address
    sign_out(page)
    sign_in(page, username, password)
    expect(page.get_by_role("heading", name="Welcome, Carla Agent")).to_be_visible()


def test_the_pages_work_without_javascript(page_without_js: Page) -> None:
    page = page_without_js
    sign_in(page, ADMIN[0], ADMIN[3])
    username = f"nojs{uuid.uuid4().hex[:6]}"
    _create_user(page, username, "No Script", "no script password")
    expect(_row_of(page, username)).to_have_count(1)
    for link, heading in (("Audit log", "Audit log"), ("Password", "Change your password")):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password (at least 12 characters)").fill("a brand new password")
    page.get_by_label("New password again").fill("a brand new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
    sign_out(page)
