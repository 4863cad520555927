"""The screenshots of the console's integration and operations pages (docs/console.md), taken
on the admin journey's world: an integration made and tested in the form, a mail counted by a
running pipeline, a quarantined mail; then the agent workspace (:mod:`tests.browser.desk_shots`).
Called by :mod:`tests.browser.screenshots`."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.browser_rig import sign_in
from tests.browser.console_process import ADMIN
from tests.browser.desk_shots import shoot_desk
from tests.browser.journey_rig import BILLING, HELPDESK, SUPPORT, Journey, journey_world
from tests.browser.journey_steps import expect_all_passed, fill_integration
from tests.integration.fetcher_rig import mail

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
SUBJECT = "Printer on fire"


def _shoot(page: Page, out: Path, name: str) -> Path:
    target = out / f"{name}.png"
    page.screenshot(path=str(target), full_page=True, animations="disabled", caret="hide")
    return target


def _form_with_errors(page: Page) -> None:
    page.goto("/admin/integrations/new")
    page.locator("form.stacked").first.evaluate("form => form.noValidate = true")
    page.get_by_label("Name", exact=True).fill("Helpdesk")
    page.get_by_label("Mailbox address").fill("not an address")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _tested(journey: Journey) -> Callable[[Page], None]:
    def made_and_tested(page: Page) -> None:
        page.goto("/admin/integrations/new")
        fill_integration(page, journey.sim, "Helpdesk", HELPDESK)
        page.get_by_role("button", name="Test connection").click()
        expect_all_passed(page)

    return made_and_tested


def _counted(journey: Journey) -> Callable[[Page], None]:
    def health(page: Page) -> None:
        page.goto("/health")
        support = page.get_by_role("row").filter(has_text=SUPPORT)
        with journey.pipeline():
            journey.post_mail(mail(1, subject="Where is my order?"), SUPPORT)
            expect(support.get_by_role("cell").nth(5)).to_have_text("1", timeout=90_000)

    return health


def _entry(page: Page) -> None:
    page.goto("/quarantine")
    page.get_by_role("link", name=SUBJECT).first.click()
    inside = page.frame_locator("iframe.mail-html").locator("body")
    expect(inside).to_contain_text("second floor")
    # Chromium paints a sandboxed frame below the fold only once it has been in view.
    page.locator("iframe.mail-html").scroll_into_view_if_needed()


def _steps(journey: Journey) -> list[tuple[str, Callable[[Page], None]]]:
    def goto(path: str) -> Callable[[Page], None]:
        return lambda page: (page.goto(path), None)[1]

    return [
        ("console-integration-new", goto("/admin/integrations/new")),
        ("console-integration-errors", _form_with_errors),
        ("console-integration-tested", _tested(journey)),
        ("console-integrations", goto("/admin/integrations")),
        ("console-health", _counted(journey)),
        ("console-quarantine", goto("/quarantine")),
        ("console-quarantine-entry", _entry),
        ("console-dead-letters", goto("/dead-letters")),
    ]


def shoot_journey(browser: Browser, out: Path, width: int) -> Iterator[Path]:
    """Each page of the journey, as the admin sees it, into ``out``."""
    namespace = f"screenshots-{uuid.uuid4().hex[:6]}"
    with (
        tempfile.TemporaryDirectory() as workdir,
        journey_world(Path(workdir), AMQP_URL, namespace) as journey,
    ):
        html = "<p>The printer on the <b>second floor</b> is on fire.</p>"
        journey.quarantine(mail(7, subject=SUBJECT, to=BILLING, html=html), BILLING, SUBJECT)
        context = browser.new_context(
            base_url=journey.console.base_url, viewport={"width": width, "height": 600}
        )
        page = context.new_page()
        sign_in(page, ADMIN[0], ADMIN[3])
        for name, step in _steps(journey):
            step(page)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            yield _shoot(page, out, name)
        context.close()
        yield from shoot_desk(browser, journey, out, width)
