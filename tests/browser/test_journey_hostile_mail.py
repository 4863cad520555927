"""Hostile mail in the agent workspace, in Chromium, through the real pipeline: a mail whose
HTML has ``<script>``, event handlers (``onerror``, ``onload``, ``ontoggle``), ``javascript:``
links, ``<iframe srcdoc>``, ``<object>``, ``<embed>`` and a form, and whose subject and text
are markup too, is listed and shown with nothing run — on the page as loaded and when the
requester's next hostile mail arrives live. Every payload would set ``window.hacked`` or open
a dialog; neither happens, and the page watcher fails the test on any script error or
Content-Security-Policy violation."""

from __future__ import annotations

import uuid

from playwright.sync_api import Dialog, Page, expect

from tests.browser.browser_rig import serious_violations, sign_in
from tests.browser.console_process import AGENT
from tests.browser.desk_rig import PIPELINE_TIMEOUT_MS, find_record
from tests.browser.journey_rig import DESK, Journey
from tests.integration.fetcher_rig import mail

HOSTILE_HTML = """<html><head><script>window.hacked = "script"; alert("script")</script>
<meta http-equiv="refresh" content="0;url=javascript:alert('meta')"></head>
<body onload="window.hacked = 'body onload'">
<p>Dear helpdesk, <b>please</b> read this.</p>
<img src="x" onerror="window.hacked = 'onerror'; alert('onerror')" alt="broken">
<svg onload="window.hacked = 'svg onload'"><circle r="4"/></svg>
<a href="javascript:window.hacked = 'link'; alert('link')">Claim your prize</a>
<a href="JaVaScRiPt&colon;alert('encoded link')">Another prize</a>
<iframe srcdoc="&lt;script&gt;parent.hacked = 'srcdoc'&lt;/script&gt;"></iframe>
<object data="javascript:alert('object')"></object>
<embed src="javascript:alert('embed')">
<form action="javascript:alert('form')"><button>Go</button></form>
<details open ontoggle="window.hacked = 'ontoggle'"><summary>More</summary>x</details>
</body></html>"""

#: Where a payload could have left its mark, read in the console's page.
HACKED = "window.hacked === undefined ? null : String(window.hacked)"


def _hostile(n: int, subject: str) -> bytes:
    return mail(n, subject=subject, to=DESK, html=HOSTILE_HTML)


def test_a_hostile_mail_runs_nothing_on_the_page_or_when_it_arrives_live(
    journey_page: Page, desk_pipeline: Journey
) -> None:
    page = journey_page
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    marker = uuid.uuid4().hex[:8]
    subject = f"Prize {marker} <script>alert('subject')</script><img src=x onerror=alert(9)>"
    sign_in(page, AGENT[0], AGENT[3])
    record_id = find_record(
        page, subject, lambda: desk_pipeline.post_mail(_hostile(31, subject), DESK)
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record #{record_id}: {subject}")
    _expect_nothing_ran(page, dialogs, frames=1)
    assert serious_violations(page) == []

    again = _hostile(32, f"Re: [#{record_id}] <svg onload=alert('live')>")
    desk_pipeline.post_mail(again, DESK)
    arrived = page.locator("#thread article").filter(has_text="<svg onload=alert('live')>")
    expect(arrived).to_contain_text("Reply from the requester", timeout=PIPELINE_TIMEOUT_MS)
    expect(page.locator("#thread-news")).to_contain_text("1 new message")
    _expect_nothing_ran(page, dialogs, frames=2)


def _expect_nothing_ran(page: Page, dialogs: list[str], frames: int) -> None:
    """The mail's HTML only in sandboxed frames, stripped of every active part; each frame's
    links clicked; no payload left a mark or opened a dialog."""
    shown = page.locator("iframe.mail-html")
    expect(shown).to_have_count(frames)
    for n in range(frames):
        expect(shown.nth(n)).to_have_attribute("sandbox", "")
        document = page.frame_locator("iframe.mail-html").nth(n).locator("html")
        body = document.locator("body")
        expect(body).to_contain_text("please read this")
        active = "script, iframe, object, embed, form, meta, [onload], [onerror], [ontoggle]"
        expect(document.locator(active)).to_have_count(0)
        expect(document.locator("a[href^='javascript' i]")).to_have_count(0)
        url = page.url
        body.get_by_text("Claim your prize").click()
        assert page.url == url
    assert page.evaluate(HACKED) is None
    assert dialogs == []
    expect(page.locator("h1 script, #thread script, #thread img")).to_have_count(0)
