"""The console beside a running pipeline, in Chromium: mail posted to the simulator is counted
on /health by the page's own refresh (nothing restarted), and a quarantined mail is listed,
viewed in its sandboxed frame and replayed back to the mailbox from the console."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.browser.browser_rig import serious_violations, sign_in
from tests.browser.console_process import ADMIN
from tests.browser.journey_rig import BILLING, QUARANTINE, SUPPORT, Journey
from tests.integration.fetcher_rig import mail

#: The first poll, the record, then the page's next refresh (every 10 s): ample on a slow box.
PIPELINE_TIMEOUT_MS = 90_000


def test_new_mail_is_counted_on_the_health_page_without_a_restart(
    journey_page: Page, journey: Journey
) -> None:
    page = journey_page
    sign_in(page, ADMIN[0], ADMIN[3])
    page.goto("/health")
    support = page.get_by_role("row").filter(has_text=SUPPORT)
    records_today = support.get_by_role("cell").nth(5)
    expect(records_today).to_have_text("0")
    assert serious_violations(page) == []
    with journey.pipeline():
        journey.post_mail(mail(1, subject="Counted on the health page"), SUPPORT)
        expect(records_today).to_have_text("1", timeout=PIPELINE_TIMEOUT_MS)
    expect(support.get_by_role("img", name="OK")).to_be_visible()


def test_a_quarantined_mail_is_viewed_and_replayed(journey_page: Page, journey: Journey) -> None:
    page = journey_page
    subject = f"Printer on fire {uuid.uuid4().hex[:6]}"
    html = "<p onclick='x()'>Printer <b>on fire</b></p>"
    journey.quarantine(mail(7, subject=subject, to=BILLING, html=html), BILLING, subject)
    sign_in(page, ADMIN[0], ADMIN[3])
    page.get_by_role("link", name="Quarantine").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quarantine")
    assert serious_violations(page) == []
    page.get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)
    frame = page.get_by_title("The mail's HTML, sanitised")
    expect(frame).to_have_attribute("sandbox", "")
    inside = page.frame_locator("iframe.mail-html").locator("body")
    expect(inside).to_contain_text("Printer on fire")
    expect(page.locator(".mail-text")).to_contain_text("Body of request 7.")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Replay entry").click()
    expect(page.get_by_role("status")).to_contain_text("its mail is back in the mailbox's folder")
    page.goto("/quarantine")
    expect(page.get_by_role("link", name=subject)).to_have_count(0)
    folders = journey.folders(BILLING)
    assert folders.get(QUARANTINE, 0) == 0 and folders["inbox"] >= 1, folders
