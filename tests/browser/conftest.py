"""The browser tests' fixtures: one ``mailpipe web`` process and one Chromium for the session
(with an admin and an agent made by ``mailpipe admin create-user``), a fresh context and page
per test. Without Chromium the tests fail saying how to install it; they never skip."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.browser_rig import CHROMIUM, HOW_TO_INSTALL, Watched, launch, watch
from tests.browser.console_process import ADMIN, AGENT, RunningConsole, mailpipe_web
from tests.browser.desk_rig import prepare_desk
from tests.browser.journey_rig import Journey, journey_world

#: Each context is a client address of its own, sent as X-Forwarded-For (which the console
#: believes from 127.0.0.1, its default MAILPIPE_WEB_FORWARDED_ALLOW_IPS): one test's failed
#: sign-ins never count towards the throttle of another's (20 per client address).
_ADDRESSES = (f"2001:db8::{n:x}" for n in itertools.count(1))

#: Playwright's expect() waits this long for a page to reach the state a test names.
EXPECT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    with mailpipe_web(tmp_path_factory.mktemp("console")) as running:
        for account in (ADMIN, AGENT):
            running.create_user(*account)
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(HOW_TO_INSTALL, pytrace=False)
    with sync_playwright() as playwright:
        expect.set_options(timeout=EXPECT_TIMEOUT_MS)
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def _page(browser: Browser, console: RunningConsole, javascript: bool) -> Iterator[Watched]:
    context = browser.new_context(
        base_url=console.base_url,
        java_script_enabled=javascript,
        viewport={"width": 1000, "height": 700},
        extra_http_headers={"X-Forwarded-For": next(_ADDRESSES)},
    )
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    watched = watch(context.new_page())
    yield watched
    context.close()
    assert watched.unexpected() == [], "script errors or CSP violations in the console"


@pytest.fixture
def watched(browser: Browser, console: RunningConsole) -> Iterator[Watched]:
    """A page in a context of its own (no cookies from other tests), watched for errors."""
    yield from _page(browser, console, javascript=True)


@pytest.fixture
def page(watched: Watched) -> Page:
    return watched.page


@pytest.fixture
def page_without_js(browser: Browser, console: RunningConsole) -> Iterator[Page]:
    """A page whose context runs no JavaScript at all."""
    for watched in _page(browser, console, javascript=False):
        yield watched.page


@pytest.fixture(scope="package")
def journey(
    tmp_path_factory: pytest.TempPathFactory, amqp_url: str, run_id: str
) -> Iterator[Journey]:
    """The admin journey's console: integrations in its database, the Graph simulator."""
    namespace = f"t{run_id}-browser"
    with journey_world(tmp_path_factory.mktemp("journey"), amqp_url, namespace) as world:
        yield world


@pytest.fixture
def journey_page(browser: Browser, journey: Journey) -> Iterator[Page]:
    """A watched page with JavaScript on the journey's console."""
    for watched in _page(browser, journey.console, javascript=True):
        yield watched.page


@pytest.fixture
def second_journey_page(browser: Browser, journey: Journey) -> Iterator[Page]:
    """Another watched context on the journey's console (a second agent's browser)."""
    for watched in _page(browser, journey.console, javascript=True):
        yield watched.page


@pytest.fixture(scope="package")
def desk(journey: Journey) -> Journey:
    """The journey with the agents' desk (tests.browser.desk_rig): made once, when needed."""
    prepare_desk(journey)
    return journey


@pytest.fixture(scope="module")
def desk_pipeline(desk: Journey) -> Iterator[Journey]:
    """The desk with ``mailpipe run --no-web`` on its database and RabbitMQ namespace (its
    sender takes the console's replies), for one test module."""
    with desk.pipeline(on_rabbitmq=True):
        yield desk


@pytest.fixture
def journey_page_without_js(browser: Browser, journey: Journey) -> Iterator[Page]:
    for watched in _page(browser, journey.console, javascript=False):
        yield watched.page
