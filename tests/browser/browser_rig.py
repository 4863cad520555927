"""Debian's Chromium driven by Playwright (the sync API): launching it, watching a page for
script errors and Content-Security-Policy violations, signing in, and axe-core's verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
HOW_TO_INSTALL = (
    f"no Chromium at {CHROMIUM}: run `bash scripts/browser-prepare.sh` as root (it runs "
    "`apt-get install -y chromium`; `make test` runs it too); the browser tests never download "
    "a browser of their own"
)

#: Reported by the page itself (an init script runs before the page's own code, outside CSP).
_REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

#: Chromium's note that a page came with an error status the test asked for: a wrong password
#: (400), a refused page or form (403), the throttle (429). Any other (a 404 for a missing icon
#: or stylesheet) counts as an error.
_MEANT_STATUS = re.compile(
    r"Failed to load resource: the server responded with a status of 4(00|03|29)"
)

#: What axe-core reports that a test fails on.
FAILING_IMPACTS = frozenset({"serious", "critical"})


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; Playwright's own browser builds are never used."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)


@dataclass
class Watched:
    """A page and what went wrong in it: script errors and console errors (CSP violations are
    console errors, from Chromium and from :data:`_REPORT_CSP`)."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")

    def _on_page_error(self, error: Exception) -> None:
        self.errors.append(f"{self.page.url}: uncaught {error}")

    def unexpected(self) -> list[str]:
        """The errors, less Chromium's note of a status the test asked for."""
        return [e for e in self.errors if not _MEANT_STATUS.search(e)]


def watch(page: Page) -> Watched:
    watched = Watched(page)
    page.add_init_script(_REPORT_CSP)
    page.on("console", watched._on_console)
    page.on("pageerror", watched._on_page_error)
    return watched


def sign_in(page: Page, username: str, password: str) -> None:
    """The login form filled and sent; waits until the form is gone."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core (the copy axe-playwright-python ships) run on the page as it is now: the
    violations of impact serious or critical, each with the elements it names."""
    results = Axe().run(page)
    found: list[dict[str, Any]] = results.response["violations"]
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]],
        }
        for v in found
        if v["impact"] in FAILING_IMPACTS
    ]
