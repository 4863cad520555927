"""Signing in and out in Chromium: by keyboard alone, a wrong password tied to its field, the
throttle's message, and an agent refused the admin pages."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from services.web.auth import DEFAULT_THROTTLE
from tests.browser.browser_rig import sign_in, sign_out
from tests.browser.console_process import ADMIN, AGENT

#: The failed sign-ins for one username after which the throttle answers (the console's
#: default, which `mailpipe web` runs with; docs/console.md "Sign-in throttling").
USERNAME_LIMIT = DEFAULT_THROTTLE.per_username


def test_an_admin_signs_in_with_the_keyboard_alone_and_signs_out(page: Page) -> None:
    username, display_name, _, password = ADMIN
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    for _ in range(3):  # the skip link, the brand link, then the first field
        page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Welcome, {display_name}")).to_be_visible()
    expect(page).to_have_title("Home · mailpipe console")
    sign_out(page)
    page.goto("/admin/users")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fadmin%2Fusers$"))


def test_a_wrong_password_shows_the_error_tied_to_the_field(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    error = page.get_by_role("alert")
    expect(error).to_have_text("Wrong username or password.")
    for field in ("Username", "Password"):
        expect(page.get_by_label(field)).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label(field)).to_have_accessible_description(
            "Wrong username or password."
        )
    expect(page.get_by_label("Username")).to_have_value(ADMIN[0])
    expect(page.get_by_label("Password")).to_have_value("")


def test_the_throttle_says_too_many_failed_sign_ins(page: Page) -> None:
    for _ in range(USERNAME_LIMIT):
        page.goto("/login")
        page.get_by_label("Username").fill("mallory")
        page.get_by_label("Password").fill("guessing again and again")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    page.get_by_label("Password").fill("one more guess here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"try again in \d+ minutes?"))


def test_an_agent_gets_the_403_page_on_the_admin_pages(page: Page) -> None:
    username, display_name, _, password = AGENT
    sign_in(page, username, password)
    expect(page.get_by_role("heading", name=f"Welcome, {display_name}")).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    for path in ("/admin/users", "/admin/audit"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(page.get_by_role("alert")).to_have_text("This page is for the admin role only.")
        expect(page.get_by_role("link", name="Back to the home page")).to_be_visible()
