"""The agents' desk of the browser journey: the DESK integration (imported, personal profiles
allowed for two agents), their personal emails, Exchange's Send As granted to one of them
only; and what the tests do on the records pages (find a new mail's record, reply, read a
reply's state)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from services.web.store.accounts import ConsoleStore
from tests.browser.console_process import AGENT
from tests.browser.journey_rig import DESK, Journey
from tests.config_helpers import write_sim_config
from tests.integration.test_sender_support import parsed, sent_list, set_send_as

#: A second agent: on the desk's Send As list, but Exchange grants them nothing.
AGENT_B = ("bea", "Bea Agent", "agent", "bea's long password 3")
#: Each agent's personal email (the address Send As is granted for).
PERSONAL = {AGENT[0]: "abe@contoso.com", AGENT_B[0]: "bea@contoso.com"}
#: A mail's way through the running pipeline (poll, record, page), or a reply's through the
#: sender: generous on a slow, shared machine; the tests wait on the page, not on time.
PIPELINE_TIMEOUT_MS = 90_000


def prepare_desk(journey: Journey) -> None:
    """AGENT_B made, both agents' personal emails set, DESK imported with both on its Send As
    list, and the simulator granting Send As on DESK to AGENT alone."""
    journey.console.create_user(*AGENT_B)
    store = ConsoleStore.open(journey.database_url)
    try:
        for user in store.users():
            if user.username in PERSONAL:
                store.change_user(user.id, personal_email=PERSONAL[user.username])
    finally:
        store.close()
    path = write_sim_config(journey.sim, journey.workdir / "desk.toml", [DESK])
    allowed = ", ".join(f'"{a}"' for a in PERSONAL.values())
    path.write_text(path.read_text() + f"send_as = [{allowed}]\n")
    journey.mailpipe("config", "import", str(path))
    set_send_as(journey.sim, [PERSONAL[AGENT[0]]], mailbox=DESK)


def find_record(page: Page, subject: str, post: Callable[[], object]) -> int:
    """Search /records for ``subject``, then ``post`` its mail: the list's live notice says a
    record is new, its link reloads the search, which lists the record; opened, its id."""
    page.goto("/records")
    page.get_by_role("searchbox", name="Search").fill(subject)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No record matches.")).to_be_visible()
    post()
    found = page.get_by_role("link", name=subject, exact=True)
    # Another mailbox's mail may be the first new record: refresh until ours is listed.
    for _ in range(10):
        news = page.locator("#records-news a")
        expect(news).to_be_visible(timeout=PIPELINE_TIMEOUT_MS)
        with page.expect_navigation():
            news.click()
        if found.count():
            break
    found.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)
    return int(page.url.rsplit("/", 1)[-1].split("?")[0].split("#")[0])


def reply_state(page: Page, text: str) -> Locator:
    """The state (queued, sending, sent, failed, rejected) of the console's reply whose text is
    ``text``: in its own item until sent, then in the thread's message it became."""
    item = page.locator("#thread article").filter(has_text=text)
    return item.locator(".reply-state strong.state")


def reply_error(page: Page, text: str) -> Locator:
    return page.locator("#thread article").filter(has_text=text).locator(".reply-error")


def mark_page(page: Page) -> None:
    """A flag on the page's window: gone if the page is loaded again."""
    page.evaluate("window.notReloaded = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.notReloaded === true"))


def sent_from(journey: Journey, text: str) -> list[str]:
    """The From of each mail the simulator sent from DESK whose text holds ``text``."""
    froms = []
    for entry in sent_list(journey.sim, DESK):
        mail = parsed(entry)
        body = mail.get_body(("plain",))
        if body is not None and text in body.get_content():
            froms.append(mail["From"].addresses[0].addr_spec)
    return froms
