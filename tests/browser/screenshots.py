"""Screenshots of every console page for docs/console.md, taken in Debian's Chromium on a
console of its own (and the integration and operations pages on the Graph simulator, with
``mailpipe run`` and RabbitMQ: :mod:`tests.browser.journey_shots`):
``PYTHONPATH=. .venv/bin/python -m tests.browser.screenshots`` writes ``docs/img/console-*.png``
(1000 px wide). Run it after a change that shows on a page."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.browser_rig import CHROMIUM, HOW_TO_INSTALL, launch, sign_in, sign_out
from tests.browser.console_process import ADMIN, AGENT, mailpipe_web
from tests.browser.journey_shots import shoot_journey

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"
WIDTH = 1000

#: (file name, the account signed in or None, the path)
SHOTS = [
    ("console-login", None, "/login"),
    ("console-home", ADMIN, "/"),
    ("console-users", ADMIN, "/admin/users"),
    ("console-audit", ADMIN, "/admin/audit"),
    ("console-password", ADMIN, "/account/password"),
    ("console-refused", AGENT, "/admin/users"),
]


def _shoot(page: Page, name: str, account: tuple[str, str, str, str] | None, path: str) -> Path:
    if account is not None:
        sign_in(page, account[0], account[3])
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    target = OUT / f"{name}.png"
    page.screenshot(path=str(target), full_page=True, animations="disabled", caret="hide")
    if account is not None:
        sign_out(page)
    return target


def main() -> int:
    if not CHROMIUM.exists():
        print(HOW_TO_INSTALL, file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir, mailpipe_web(Path(workdir)) as console:
        for user in (ADMIN, AGENT):
            console.create_user(*user)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context(
                base_url=console.base_url, viewport={"width": WIDTH, "height": 600}
            )
            page = context.new_page()
            for name, account, path in SHOTS:
                print(_shoot(page, name, account, path))
            for shot in shoot_journey(browser, OUT, WIDTH):
                print(shot)
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
