"""GraphMail's user and folder reads on httpx.MockTransport: the adapter asks Graph for the
properties the port's DirectoryUser and MailFolder hold, and maps the answer."""

from __future__ import annotations

import httpx

from libs.common.graph._resources import FOLDER_SELECT, USER_SELECT, to_folder, to_user
from libs.common.mail import DirectoryUser, MailFolder

from .graph_helpers import make_mail


def test_a_user_lookup_selects_every_field_and_maps_graphs_names() -> None:
    answer = {
        "id": "u1",
        "displayName": "Alice A",
        "mail": "alice@contoso.test",
        "userPrincipalName": "alice@contoso.test",
        "jobTitle": "Accountant",
        "department": None,
    }
    mail, rec, _, _, _ = make_mail(lambda r: httpx.Response(200, json=answer))
    assert mail.get_user("alice@contoso.test") == DirectoryUser(
        "u1", "Alice A", "alice@contoso.test", "alice@contoso.test", "Accountant", None
    )
    (request,) = rec.requests
    assert request.url.path.endswith("/users/alice@contoso.test")
    assert request.url.params["$select"].split(",") == list(USER_SELECT)


def test_a_folder_read_selects_no_mail_and_maps_the_count() -> None:
    answer = {"id": "f1", "displayName": "Inbox", "totalItemCount": 3}
    mail, rec, _, _, _ = make_mail(lambda r: httpx.Response(200, json=answer))
    assert mail.get_folder("inbox") == MailFolder("f1", "Inbox", 3)
    (request,) = rec.requests
    assert request.url.path.endswith("/mailFolders/inbox")
    assert request.url.params["$select"].split(",") == list(FOLDER_SELECT)


def test_missing_or_odd_properties_are_left_out() -> None:
    assert to_user({"id": "u1", "displayName": ["not", "text"]}) == DirectoryUser("u1")
    assert to_folder({"id": "f1", "totalItemCount": True}) == MailFolder("f1")
    assert to_folder({"id": "f1", "totalItemCount": "3"}).total_count is None
