"""The GraphQL schema (code first). `build_schema()` is the only way in; `schema.graphql` mirrors it."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import ASTValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from .documents import DocumentRules
from .errors import USER_ERROR_TYPES, MaskUnexpectedErrors
from .mutations import Mutation
from .queries import Query
from .root_fields import max_root_fields
from .suggestions import NoSuggestionsExecutor
from .telemetry import QuietSchema, RecordOperation
from .types import Invitation


@dataclass(frozen=True, slots=True)
class Limits:
    """What keeps hostile documents cheap (GATEWAY_GRAPHQL__MAX_*)."""

    max_depth: int = 12
    max_tokens: int = 5_000
    max_aliases: int = 30
    max_root_fields: int = 20


class GatewaySchema(QuietSchema):
    """The schema, with the document cache its requests share (`documents.py`)."""

    documents: DocumentRules


def build_schema(limits: Limits | None = None, *, introspection: bool = True) -> GatewaySchema:
    """The schema; without `introspection`, `__schema`/`__type` are refused and no error makes
    a "Did you mean …" suggestion, in validation or in variables (`suggestions.py`)."""
    limits = limits or Limits()
    # Strawberry's limiters are validation rules; built here once, not per request.
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
        max_root_fields(limits.max_root_fields),
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    documents = DocumentRules(
        rules, max_tokens=limits.max_tokens, hide_suggestions=not introspection
    )
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[Invitation, *USER_ERROR_TYPES],
        extensions=[
            # Factories: each operation gets fresh extension instances. RecordOperation comes
            # first so that its end runs last, when errors are masked and carry their codes.
            RecordOperation,
            MaskUnexpectedErrors,
            documents.extension(),
        ],
        execution_context_class=None if introspection else NoSuggestionsExecutor,
        config=StrawberryConfig(auto_camel_case=True),
    )
    schema.documents = documents
    return schema


def schema_sdl() -> str:
    """The schema as SDL, exactly as `schema.graphql` must read."""
    return build_schema().as_str() + "\n"
