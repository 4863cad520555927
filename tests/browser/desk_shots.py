"""The screenshots of the agent workspace (docs/console.md, "Records" and "Replying"), taken on
the journey's world with the agents' desk and ``mailpipe run`` on RabbitMQ: the records list,
a record with its thread and the reply form, replies sent from the mailbox and as the agent,
a reply failed with its fix, and the integration form's Send As list. Called by
:mod:`tests.browser.journey_shots`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.browser_rig import sign_in
from tests.browser.console_process import ADMIN, AGENT
from tests.browser.desk_rig import (
    AGENT_B,
    PERSONAL,
    PIPELINE_TIMEOUT_MS,
    find_record,
    prepare_desk,
    reply_state,
)
from tests.browser.journey_rig import DESK, Journey
from tests.integration.fetcher_rig import mail

SUBJECT = "The coffee machine on the third floor leaks"
HTML = "<p>Hello, the coffee machine on the <b>third floor</b> leaks onto the carpet.</p>"


def _shoot(page: Page, out: Path, name: str) -> Path:
    for frame in page.locator("iframe.mail-html").all():
        # Chromium paints a sandboxed frame below the fold only once it has been in view.
        frame.scroll_into_view_if_needed()
    target = out / f"{name}.png"
    page.screenshot(path=str(target), full_page=True, animations="disabled", caret="hide")
    return target


def _reply(page: Page, text: str, from_label: str, state: str) -> None:
    page.get_by_label(from_label).check()
    page.get_by_label("Text").fill(text)
    page.get_by_role("button", name="Send the reply").click()
    expect(reply_state(page, text)).to_have_text(state, timeout=PIPELINE_TIMEOUT_MS)


def _send_as_list(browser: Browser, journey: Journey, out: Path, width: int) -> Path:
    context = browser.new_context(
        base_url=journey.console.base_url, viewport={"width": width, "height": 600}
    )
    page = context.new_page()
    sign_in(page, ADMIN[0], ADMIN[3])
    page.goto("/admin/integrations")
    page.get_by_role("link", name=DESK, exact=True).click()
    outgoing = page.get_by_role("group", name="Outgoing Email")
    expect(outgoing).to_contain_text(PERSONAL[AGENT[0]])
    target = out / "console-integration-send-as.png"
    outgoing.screenshot(path=str(target), animations="disabled", caret="hide")
    context.close()
    return target


def shoot_desk(browser: Browser, journey: Journey, out: Path, width: int) -> Iterator[Path]:
    """The desk made, then each page of the agent workspace into ``out``."""
    prepare_desk(journey)
    yield _send_as_list(browser, journey, out, width)
    pages = []
    for account in (AGENT, AGENT_B):
        context = browser.new_context(
            base_url=journey.console.base_url, viewport={"width": width, "height": 600}
        )
        pages.append(context.new_page())
        sign_in(pages[-1], account[0], account[3])
    abe, bea = pages
    with journey.pipeline(on_rabbitmq=True):
        raw = mail(41, subject=SUBJECT, to=DESK, html=HTML)
        record_id = find_record(abe, SUBJECT, lambda: journey.post_mail(raw, DESK))
        abe.goto("/records")
        yield _shoot(abe, out, "console-records")
        abe.goto(f"/records/{record_id}")
        yield _shoot(abe, out, "console-record")
        mailbox, mine = f"{DESK} (the mailbox)", f"{PERSONAL[AGENT[0]]} (you)"
        _reply(abe, "We have called the plumber; he comes at noon.", mailbox, "sent")
        _reply(abe, "The plumber has fixed it. Abe", mine, "sent")
        yield _shoot(abe, out, "console-reply-sent")
        bea.goto(f"/records/{record_id}")
        _reply(bea, "Thank you for telling us.", f"{PERSONAL[AGENT_B[0]]} (you)", "failed")
        yield _shoot(bea, out, "console-reply-failed")
    for page in pages:
        page.context.close()
