"""ConductorOne LocalDirectoryConfigService List and Get, over the state `ConductorOneEmulator`
holds (conductorone-notes.md §3): how a gateway finds `directory_app_id`s and the default one.

GET /api/v1/local-directory-configs?page_size=&page_token=    List
GET /api/v1/local-directory-configs/{app_id}                  Get
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from invitation_gateway.emulators._common import RecordedRequest
from invitation_gateway.emulators._routing import Router
from invitation_gateway.emulators.conductorone._invitations import CONFIGS
from invitation_gateway.emulators.conductorone._pages import (
    PageTokens,
    list_payload,
    page_size,
    paginate,
)
from invitation_gateway.emulators.conductorone._wire import (
    NOT_FOUND,
    RpcError,
    format_timestamp,
    query_int32,
)


class DirectoryState(Protocol):
    directories: dict[str, dict[str, Any]]
    page_tokens: PageTokens


class LocalDirectoryConfigs:
    def __init__(self, state: DirectoryState) -> None:
        self._state = state

    def register(self, router: Router) -> None:
        router.add("GET", CONFIGS, self._list)
        router.add("GET", CONFIGS + "/{app_id}", self._get)

    def add(
        self, app_id: str, display_name: str, *, is_default: bool, ttl_seconds: int, now: datetime
    ) -> dict[str, Any]:
        stamp = format_timestamp(now)
        config: dict[str, Any] = {"appId": app_id, "displayName": display_name}
        if is_default:  # "At most one config per tenant may be the default." (notes §3)
            for other in self._state.directories.values():
                other.pop("isDefault", None)
            config["isDefault"] = True
        # UNVERIFIED (conductorone-notes.md §3): proto Duration as JSON, e.g. "604800s".
        config["invitationTtl"] = f"{ttl_seconds}s"
        config["createdAt"] = config["updatedAt"] = stamp
        self._state.directories[app_id] = config
        return config

    def _list(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        size = page_size(query_int32(request.query, "page_size"))
        token = request.query.get("page_token", [""])[-1]
        page, next_token = paginate(
            list(self._state.directories.values()),
            lambda config: [config["appId"]],
            token,
            size,
            self._state.page_tokens,
            listing="directories",
        )
        return list_payload(page, next_token)

    def _get(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        directory = self._state.directories.get(params["app_id"])
        if directory is None:
            raise RpcError(NOT_FOUND, "not found")
        return {"localDirectoryConfig": directory}
