"""No "Did you mean …" where introspection is off: it would name the schema all the same.

graphql-core (3.3) adds suggestions in two places, and takes a `hide_suggestions` flag in
both: validation (unknown field, argument, type, enum value or input field written in the
document) and the coercion of variables when execution starts (an unknown enum value or input
field sent in `variables`). Strawberry's `disable_field_suggestions` only strips the first
sentence of "Cannot query field" messages, and passes neither flag on, so:

- `validate_without_suggestions` validates the document with graphql-core's
  `hide_suggestions`; the document cache's extension (`documents.py`) calls it before Strawberry
  would validate (Strawberry then skips its own validation, as it does whenever an extension has
  set `pre_execution_errors`). It uses the rules Strawberry would: the operation's rules plus
  Strawberry's two own rules.
- `NoSuggestionsExecutor` is the execution context class that builds every executor with
  `hide_suggestions=True`, so the coercion of variables suggests nothing either.

Both are used only when introspection is off (`build_schema`): the sandbox keeps suggestions.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, validate
from graphql.execution import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

# What Strawberry's `validate_document` adds to the operation's rules (strawberry 0.341).
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


def validate_without_suggestions(context: ExecutionContext) -> list[GraphQLError] | None:
    """The operation's document validated as Strawberry would, with suggestions hidden; None
    when there is nothing to validate (no document, or no rules), as Strawberry would not."""
    if context.graphql_document is None or not context.validation_rules:
        return None
    return validate(
        context.schema._schema,
        context.graphql_document,
        (*context.validation_rules, *_STRAWBERRY_RULES),
        hide_suggestions=True,
    )


class NoSuggestionsExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, built with `hide_suggestions=True` whatever it is passed."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)
