"""The GraphQL schema (code first). `build_schema()` is the only way in; `schema.graphql` mirrors it."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from .errors import USER_ERROR_TYPES, MaskUnexpectedErrors
from .mutations import Mutation
from .queries import Query
from .types import Invitation


@dataclass(frozen=True, slots=True)
class Limits:
    """What keeps hostile documents cheap (GATEWAY_GRAPHQL__MAX_*)."""

    max_depth: int = 12
    max_tokens: int = 5_000
    max_aliases: int = 30


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    limits = limits or Limits()
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Invitation, *USER_ERROR_TYPES],
        extensions=[
            # Factories: each operation gets fresh extension instances.
            MaskUnexpectedErrors,
            lambda: QueryDepthLimiter(max_depth=limits.max_depth),
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        ],
        config=StrawberryConfig(auto_camel_case=True),
    )


def schema_sdl() -> str:
    """The schema as SDL, exactly as `schema.graphql` must read."""
    return build_schema().as_str() + "\n"
