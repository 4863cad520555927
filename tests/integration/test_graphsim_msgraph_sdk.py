"""Microsoft's own msgraph-sdk, pointed at the simulator, lists a seeded message, sends mail
and creates a change-notification subscription.

No azure-identity: a small kiota AccessTokenProvider gets tokens with real msal from the
simulator's token endpoint. The SDK's httpx client trusts only the simulator's CA.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal
import pytest
import requests
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.models.subscription import Subscription
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)
from msgraph_core import GraphClientFactory

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import seed
from tests.integration.test_graphsim_mail import rich_message
from tests.notify_receiver import receiver

# The generated SDK warns about its own deprecated request-configuration classes.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class MsalTokenProvider(AccessTokenProvider):
    """Client-credentials tokens from msal for the simulator's host only."""

    def __init__(self, sim: SimHandle) -> None:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
        session.verify = str(sim.ca_bundle)
        self._app = msal.ConfidentialClientApplication(
            sim.client_id,
            client_credential=sim.client_secret,
            authority=f"{sim.authority_host}/{sim.tenant_id}",
            instance_discovery=False,
            http_client=session,
        )
        self._hosts = AllowedHostsValidator([str(urlsplit(sim.base_url).hostname)])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        scopes = ["https://graph.microsoft.com/.default"]
        result = await asyncio.to_thread(self._app.acquire_token_for_client, scopes=scopes)
        return str(result["access_token"])

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


def _client(sim: SimHandle, http: httpx.AsyncClient) -> GraphServiceClient:
    auth = BaseBearerTokenAuthenticationProvider(MsalTokenProvider(sim))
    adapter = GraphRequestAdapter(
        auth, client=GraphClientFactory.create_with_default_middleware(client=http)
    )
    adapter.base_url = sim.base_url
    return GraphServiceClient(request_adapter=adapter)


async def _list_and_send(sim: SimHandle) -> list[Message]:
    async with httpx.AsyncClient(verify=sim.ssl_context(), timeout=30) as http:
        client = _client(sim, http)
        box = client.users.by_user_id("support@contoso.com")
        page = await box.mail_folders.by_mail_folder_id("inbox").messages.get()
        body = SendMailPostRequestBody(
            message=Message(
                subject="Sent by msgraph-sdk",
                body=ItemBody(content_type=BodyType.Text, content="hello from the SDK"),
                to_recipients=[Recipient(email_address=EmailAddress(address="alice@example.org"))],
            ),
            save_to_sent_items=False,
        )
        # The SDK raises on any answer but a 2xx; a 202 has no body, so post returns nothing.
        await box.send_mail.post(body)
        return list(page.value or []) if page else []


def test_msgraph_sdk_lists_a_seeded_message_and_sends_mail(sim: SimHandle) -> None:
    mid = seed(sim, rich_message())
    messages = asyncio.run(_list_and_send(sim))
    assert len(messages) == 1
    got = messages[0]
    assert got.subject == "Drucker brennt: Größe 💥 €"
    assert got.from_ and got.from_.email_address
    assert got.from_.email_address.address == "juergen@example.de"
    assert got.internet_message_id == "<rich-1@example.de>"
    assert got.has_attachments is True
    assert got.body and got.body.content_type == BodyType.Html
    assert got.id  # a REST id: the SDK sends no Prefer header
    assert got.id != mid
    with sim.control() as c:
        records = c.get("/_sim/mailboxes/support@contoso.com/sent").json()
        counts = c.get("/_sim/mailboxes/support@contoso.com").json()
    assert [r["subject"] for r in records] == ["Sent by msgraph-sdk"]
    assert records[0]["to"] == ["alice@example.org"]
    assert counts["folders"]["sentitems"] == 0  # save_to_sent_items=False was honoured


async def _subscribe(sim: SimHandle, url: str) -> Subscription | None:
    async with httpx.AsyncClient(verify=sim.ssl_context(), timeout=30) as http:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        body = Subscription(
            change_type="created",
            notification_url=url,
            resource="users/support@contoso.com/mailFolders('inbox')/messages",
            expiration_date_time=expires,
            client_state="sdk-state",
        )
        return await _client(sim, http).subscriptions.post(body)


def test_msgraph_sdk_creates_a_subscription_that_notifies(sim: SimHandle) -> None:
    with receiver() as rec:
        created = asyncio.run(_subscribe(sim, rec.url("/notify")))
        assert created is not None and created.id and created.client_state == "sdk-state"
        assert created.expiration_date_time is not None
        assert len(rec.validations) == 1
        seed(sim, rich_message())
        [item] = rec.wait_items(1)
    assert item["subscriptionId"] == created.id and item["clientState"] == "sdk-state"
