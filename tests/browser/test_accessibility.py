"""axe-core on every page of the console, in Chromium: no violation of impact serious or
critical; and no script error or Content-Security-Policy violation on any of them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.browser_rig import Watched, serious_violations, sign_in
from tests.browser.console_process import ADMIN, AGENT

#: (the account signed in, or None, the path, the page's heading)
PAGES = [
    (None, "/login", "Sign in"),
    (ADMIN, "/", f"Welcome, {ADMIN[1]}"),
    (ADMIN, "/admin/users", "Users"),
    (ADMIN, "/admin/audit", "Audit log"),
    (ADMIN, "/account/password", "Change your password"),
    (AGENT, "/admin/users", "Not allowed"),
    (AGENT, "/records", "Records"),
]


@pytest.mark.parametrize(("account", "path", "heading"), PAGES, ids=[p[1] for p in PAGES])
def test_axe_finds_no_serious_violation(
    watched: Watched, account: tuple[str, str, str, str] | None, path: str, heading: str
) -> None:
    page = watched.page
    if account is not None:
        sign_in(page, account[0], account[3])
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert serious_violations(page) == []
    assert watched.unexpected() == []


def test_a_failed_sign_in_and_a_refused_form_keep_axe_quiet(page: Page) -> None:
    """The pages in their error states: the login error and the users form's field errors."""
    page.goto("/login")
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_label("Password").fill("not a password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert serious_violations(page) == []
    sign_in(page, ADMIN[0], ADMIN[3])
    page.goto("/admin/users")
    form = page.locator("form[action='/admin/users']")
    form.get_by_label("Username", exact=True).fill("shorty")
    form.get_by_label("Initial password (at least 12 characters, not the username)").fill("short")
    form.evaluate("form => form.noValidate = true")
    form.get_by_role("button", name="Create user").click()
    expect(page.locator("#password-error")).to_be_visible()
    assert serious_violations(page) == []
