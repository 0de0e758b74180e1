"""The GraphQL schema (code first). `build_schema()` is the only way in; `schema.graphql` mirrors it."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from graphql import ASTValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from .errors import USER_ERROR_TYPES, MaskUnexpectedErrors
from .mutations import Mutation
from .queries import Query
from .root_fields import max_root_fields
from .types import Invitation


@dataclass(frozen=True, slots=True)
class Limits:
    """What keeps hostile documents cheap (GATEWAY_GRAPHQL__MAX_*)."""

    max_depth: int = 12
    max_tokens: int = 5_000
    max_aliases: int = 30
    max_root_fields: int = 20


def build_schema(limits: Limits | None = None, *, introspection: bool = True) -> strawberry.Schema:
    """The schema; without `introspection`, `__schema`/`__type` are refused and error messages
    make no "Did you mean …" suggestions (they would reveal the schema all the same)."""
    limits = limits or Limits()
    rules: list[type[ASTValidationRule]] = [max_root_fields(limits.max_root_fields)]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
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
            lambda: AddValidationRules(rules),
        ],
        config=StrawberryConfig(auto_camel_case=True, disable_field_suggestions=not introspection),
    )


def schema_sdl() -> str:
    """The schema as SDL, exactly as `schema.graphql` must read."""
    return build_schema().as_str() + "\n"
