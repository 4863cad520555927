"""mailFolders: list, get, create, child folders."""

from __future__ import annotations

from typing import Any

from libs.graphsim.errors import GraphHTTPError, bad_request
from libs.graphsim.query import paged
from libs.graphsim.router import Call, GraphResponse, route
from libs.graphsim.state import HIDDEN, Folder, Mailbox
from libs.graphsim.world import World


def folder_json(box: Mailbox, folder: Folder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "displayName": folder.display_name,
        "parentFolderId": folder.parent_id or box.root.id,
        "childFolderCount": folder.children,
        "unreadItemCount": sum(1 for m in folder.messages.values() if not m.fields["isRead"]),
        "totalItemCount": len(folder.messages),
        "sizeInBytes": sum(len(m.mime) for m in folder.messages.values()),
        "isHidden": folder.well_known in HIDDEN,
    }


def _selected(folder: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if not select:
        return folder
    return {"id": folder["id"]} | {k: folder[k] for k in select if k in folder}


def folder_or_404(box: Mailbox, ref: str) -> Folder:
    folder = box.folder(ref)
    if folder is None:
        raise GraphHTTPError(
            404, "ErrorItemNotFound", "The specified folder could not be found in the store."
        )
    return folder


def _list(call: Call, parent: Folder) -> GraphResponse:
    box = call.box
    hidden = call.req.query.get("includeHiddenFolders", "").lower() == "true"
    children = [
        f
        for f in box.folders.values()
        if f.parent_id == parent.id and (hidden or f.well_known not in HIDDEN)
    ]
    context = f"{call.req.base_url}/$metadata#users('{box.address}')/mailFolders"
    raw = call.req.query.get("$select")
    select = [s.strip() for s in raw.split(",")] if raw else None
    body = paged(
        children,
        lambda f: _selected(folder_json(box, f), select),
        call.req.query,
        call.req.base_url,
        call.req.path,
        context,
    )
    return GraphResponse(200, body)


def _create(call: Call, parent: Folder) -> GraphResponse:
    name = str(call.req.json().get("displayName") or "").strip()
    if not name:
        raise bad_request("The displayName of a folder must not be empty.", "ErrorInvalidRequest")
    created = call.box.create_folder(name, parent)
    if created is None:
        raise GraphHTTPError(
            409, "ErrorFolderExists", "A folder with the specified name already exists."
        )
    return GraphResponse(201, folder_json(call.box, created))


@route("GET", "users/{u}/mailFolders", "read")
def list_folders(world: World, call: Call) -> GraphResponse:
    return _list(call, call.box.root)


@route("POST", "users/{u}/mailFolders", "write")
def create_folder(world: World, call: Call) -> GraphResponse:
    return _create(call, call.box.root)


@route("GET", "users/{u}/mailFolders/{f}", "read")
def get_folder(world: World, call: Call) -> GraphResponse:
    return GraphResponse(200, folder_json(call.box, folder_or_404(call.box, call.params["f"])))


@route("GET", "users/{u}/mailFolders/{f}/childFolders", "read")
def list_children(world: World, call: Call) -> GraphResponse:
    return _list(call, folder_or_404(call.box, call.params["f"]))


@route("POST", "users/{u}/mailFolders/{f}/childFolders", "write")
def create_child(world: World, call: Call) -> GraphResponse:
    return _create(call, folder_or_404(call.box, call.params["f"]))
