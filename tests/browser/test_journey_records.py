"""The agent workspace in Chromium, on the real pipeline (``mailpipe run --no-web`` on the
console's database and RabbitMQ namespace, its sender taking the console's replies to the
Graph simulator): an agent finds a new mail's record by search, replies from the mailbox (by
mouse) and as themself (by keyboard alone), sees both ``sent`` without reloading, and the
simulator sent each From right; a second agent with the record open sees the replies and the
requester's next mail arrive live; a mail's inline image is drawn in its sandboxed frame
(a remote one is not, and a part never sent has no source); an agent whom Exchange never
granted Send As sees ``failed: send_as_denied`` with the fix; the reply form's error is tied
to its field; a status change and a customer reply's reopen reach another agent's open page as
markers in words (and its live region); axe-core quiet on the list and the record page in
each state."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.browser.browser_rig import serious_violations, sign_in
from tests.browser.console_process import AGENT
from tests.browser.desk_rig import (
    AGENT_B,
    PERSONAL,
    PIPELINE_TIMEOUT_MS,
    find_record,
    mark_page,
    not_reloaded,
    reply_error,
    reply_state,
    sent_from,
)
from tests.browser.journey_rig import DESK, Journey
from tests.integration.fetcher_rig import mail

#: Enough Tab presses to reach the reply form from the top of any record page of these tests.
MAX_TABS = 80


def _subject(what: str) -> str:
    return f"{what} {uuid.uuid4().hex[:8]}"


def _post(journey: Journey, n: int, subject: str) -> None:
    journey.post_mail(mail(n, subject=subject, to=DESK), DESK)


def _both_on_a_new_record(
    page: Page, other: Page, journey: Journey, what: str, n: int
) -> tuple[str, int]:
    """The first agent finds the record of a new mail about ``what``; the second has it open."""
    subject = _subject(what)
    sign_in(page, AGENT[0], AGENT[3])
    record_id = find_record(page, subject, lambda: _post(journey, n, subject))
    sign_in(other, AGENT_B[0], AGENT_B[3])
    other.goto(f"/records/{record_id}")
    return subject, record_id


def test_an_agent_replies_from_the_mailbox_and_as_themself_and_another_sees_it_live(
    journey_page: Page, second_journey_page: Page, desk_pipeline: Journey
) -> None:
    page, other = journey_page, second_journey_page
    subject, record_id = _both_on_a_new_record(
        page, other, desk_pipeline, "The coffee machine leaks", 21
    )
    assert serious_violations(page) == []
    other.get_by_label("Text").fill("A draft the live updates must leave alone")
    mark_page(other)

    from_desk = f"Fixed by the desk {uuid.uuid4().hex[:6]}"
    expect(page.get_by_label(f"{DESK} (the mailbox)")).to_be_checked()
    page.get_by_label("Text").fill(from_desk)
    with page.expect_navigation():  # the form posts and the console redirects back
        page.get_by_role("button", name="Send the reply").click()
    expect(page.locator("p.notice")).to_contain_text("queued")
    mark_page(page)
    expect(reply_state(page, from_desk)).to_have_text("sent", timeout=PIPELINE_TIMEOUT_MS)
    expect(reply_state(other, from_desk)).to_have_text("sent", timeout=PIPELINE_TIMEOUT_MS)

    as_me = f"Fixed by Abe himself {uuid.uuid4().hex[:6]}"
    _reply_by_keyboard(page, as_me)
    expect(page.locator("p.notice")).to_contain_text("queued")
    mark_page(page)
    expect(reply_state(page, as_me)).to_have_text("sent", timeout=PIPELINE_TIMEOUT_MS)
    expect(reply_state(other, as_me)).to_have_text("sent", timeout=PIPELINE_TIMEOUT_MS)
    assert not_reloaded(page)
    assert sent_from(desk_pipeline, from_desk) == [DESK]
    assert sent_from(desk_pipeline, as_me) == [PERSONAL[AGENT[0]]]

    again = mail(22, subject=f"Re: [#{record_id}] {subject}", to=DESK)
    desk_pipeline.post_mail(again, DESK)
    followed = other.locator("#thread article").filter(has_text="Body of request 22.")
    expect(followed).to_contain_text("Reply from the requester", timeout=PIPELINE_TIMEOUT_MS)
    expect(other.locator("#thread-news")).to_contain_text("new message")
    assert not_reloaded(other)
    expect(other.get_by_label("Text")).to_have_value("A draft the live updates must leave alone")


#: A 1x1 PNG: drawn, it is 1 pixel wide; broken, 0.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a3d8f4f80000000049454e44ae426082"
)


def test_an_inline_image_of_the_mail_is_drawn_in_its_frame_and_a_remote_one_is_not(
    journey_page: Page, desk_pipeline: Journey
) -> None:
    page = journey_page
    subject = _subject("The new logo")
    html = (
        '<p>Our logo: <img src="cid:logo.1@customer.example" alt="the logo"> and '
        '<img src="https://tracker.example/p.png" alt="a tracking pixel"> and '
        '<img src="cid:not.sent@customer.example" alt="a part never sent"></p>'
    )
    raw = mail(23, subject=subject, to=DESK, html=html, inline=[("logo.1@customer.example", PIXEL)])
    sign_in(page, AGENT[0], AGENT[3])
    find_record(page, subject, lambda: desk_pipeline.post_mail(raw, DESK))
    frame = page.frame_locator("iframe.mail-html")
    logo = frame.get_by_alt_text("the logo")
    expect(logo).to_be_visible()
    # decode() fails for an image that did not load: this one is drawn, 1 pixel wide.
    assert logo.evaluate("img => img.decode().then(() => img.naturalWidth)") == 1
    assert frame.get_by_alt_text("a tracking pixel").get_attribute("src") is None
    # A part the mail names but never carried: no source, so nothing for the page's policy to
    # refuse (the page's watcher fails the test on any violation it reports).
    expect(frame.get_by_alt_text("a part never sent")).to_be_attached()
    assert frame.get_by_alt_text("a part never sent").get_attribute("src") is None
    assert "allow-" not in (page.locator("iframe.mail-html").get_attribute("sandbox") or "")


def _reply_by_keyboard(page: Page, text: str) -> None:
    """Tab to From, the own address chosen with an arrow key, Tab to Text, type, Tab to the
    button and press Space: no mouse."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "from_address":
            break
    mine = page.get_by_label(f"{PERSONAL[AGENT[0]]} (you)")
    expect(page.get_by_label(f"{DESK} (the mailbox)")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(mine).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Text")).to_be_focused()
    page.keyboard.type(text)
    button = page.get_by_role("button", name="Send the reply")
    for _ in range(3):  # the attachments' input, then the button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    expect(button).to_be_focused()
    # Wait for the page the post redirects to: the notice of the reply before is still on the
    # old one, and a flag set there would be lost with it.
    with page.expect_navigation():
        page.keyboard.press("Space")


def test_an_agent_without_the_grant_in_exchange_sees_the_failure_and_its_fix(
    journey_page: Page, desk_pipeline: Journey
) -> None:
    page = journey_page
    subject = _subject("The lift is stuck")
    sign_in(page, AGENT_B[0], AGENT_B[3])
    find_record(page, subject, lambda: _post(desk_pipeline, 23, subject))
    text = f"Bea on it {uuid.uuid4().hex[:6]}"
    page.get_by_label(f"{PERSONAL[AGENT_B[0]]} (you)").check()
    page.get_by_label("Text").fill(text)
    page.get_by_role("button", name="Send the reply").click()
    expect(page.locator("p.notice")).to_contain_text("queued")
    expect(reply_state(page, text)).to_have_text("failed", timeout=PIPELINE_TIMEOUT_MS)
    expect(reply_error(page, text)).to_contain_text("send_as_denied")
    expect(reply_error(page, text)).to_contain_text("Delegation")
    assert serious_violations(page) == []
    assert sent_from(desk_pipeline, text) == []


def test_the_reply_forms_error_is_tied_to_its_field(
    journey_page: Page, desk_pipeline: Journey
) -> None:
    page = journey_page
    subject = _subject("Nothing to say")
    sign_in(page, AGENT[0], AGENT[3])
    find_record(page, subject, lambda: _post(desk_pipeline, 24, subject))
    page.locator("form[action$='/reply#reply']").evaluate("form => form.noValidate = true")
    page.get_by_label("Text").fill("   ")
    page.get_by_role("button", name="Send the reply").click()
    text = page.get_by_label("Text")
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_have_accessible_description("At most 100000 characters. Write the reply.")
    assert serious_violations(page) == []
    page.goto("/records")
    expect(page.get_by_role("heading", level=1)).to_have_text("Records")
    assert serious_violations(page) == []


def test_a_status_change_and_a_customer_reply_show_live_as_markers_in_words(
    journey_page: Page, second_journey_page: Page, desk_pipeline: Journey
) -> None:
    page, other = journey_page, second_journey_page
    subject, record_id = _both_on_a_new_record(page, other, desk_pipeline, "The lift is stuck", 31)
    mark_page(other)

    page.get_by_label("Status").select_option("closed")
    with page.expect_navigation():
        page.get_by_role("button", name="Change the status").click()
    closed = other.locator("#thread .change-marker").filter(has_text=f"Closed by {AGENT[0]}")
    expect(closed).to_be_visible(timeout=PIPELINE_TIMEOUT_MS)
    expect(other.locator("#thread-news")).to_contain_text(f"Closed by {AGENT[0]}.")

    again = mail(32, subject=f"Re: [#{record_id}] {subject}", to=DESK)
    desk_pipeline.post_mail(again, DESK)
    reopened = other.locator("#thread .change-marker").filter(has_text="Reopened by a customer")
    expect(reopened).to_be_visible(timeout=PIPELINE_TIMEOUT_MS)
    expect(other.locator("#record-facts")).to_contain_text("open")
    assert not_reloaded(other)
    assert serious_violations(other) == []
