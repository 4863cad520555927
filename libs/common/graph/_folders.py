"""Mail folder names to ids: well-known names as they are, display names looked up (and
created on demand) once per GraphMail."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from libs.common.graph._http import GraphHttp
from libs.common.graph.errors import GraphError, GraphNotFound
from libs.common.graph.models import WELL_KNOWN_FOLDERS


class FolderResolver:
    def __init__(self, http: GraphHttp, user: str) -> None:
        self._http = http
        self._user = user
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def folder_id(self, name: str, *, create: bool = True) -> str:
        if name.lower() in WELL_KNOWN_FOLDERS:
            return name.lower()
        key = name.lower()
        with self._lock:
            if key not in self._ids:
                found = self._find(name)
                if found is None:
                    if not create:
                        raise GraphNotFound(
                            f"mail folder {name!r} not found in {self._http.mailbox}",
                            code="ErrorFolderNotFound",
                            hint="create the folder or fix the folder name in [[mailboxes]]",
                        )
                    found = self._create(name)
                self._ids[key] = found
            return self._ids[key]

    def _find(self, name: str) -> str | None:
        url: str | None = f"{self._user}/mailFolders"
        params: Mapping[str, str] | None = {"$select": "id,displayName", "$top": "100"}
        while url:
            page: Any = self._http.request("GET", url, what="list folders", params=params).json()
            for item in page.get("value", []):
                if str(item.get("displayName", "")).lower() == name.lower():
                    return str(item["id"])
            url, params = page.get("@odata.nextLink"), None
        return None

    def _create(self, name: str) -> str:
        try:
            response = self._http.request(
                "POST",
                f"{self._user}/mailFolders",
                what="create folder",
                json={"displayName": name},
            )
        except GraphError as exc:
            if exc.code != "ErrorFolderExists":
                raise
            found = self._find(name)  # created meanwhile by another process
            if found is None:
                raise
            return found
        return str(response.json()["id"])
