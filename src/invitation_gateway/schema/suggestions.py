"""No "Did you mean …" where introspection is off: it would name the schema all the same.

graphql-core (3.3) adds suggestions in two places, and takes a `hide_suggestions` flag in
both: validation (unknown field, argument, type, enum value or input field written in the
document) and the coercion of variables when execution starts (an unknown enum value or input
field sent in `variables`). Strawberry's `disable_field_suggestions` only strips the first
sentence of "Cannot query field" messages, and passes neither flag on, so:

- `HideSuggestions` validates the document itself, with graphql-core's `hide_suggestions`,
  before Strawberry would (Strawberry then skips its own validation, as it does for any
  extension that has set `pre_execution_errors`). It validates with the rules Strawberry would
  use: the operation's rules (`documents.py` sets them) plus Strawberry's two own rules.
- `NoSuggestionsExecutor` is the execution context class that builds every executor with
  `hide_suggestions=True`, so the coercion of variables suggests nothing either.

Both are used only when introspection is off (`build_schema`): the sandbox keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, validate
from graphql.execution import Executor
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

# What Strawberry's `validate_document` adds to the operation's rules (strawberry 0.341).
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


class HideSuggestions(SchemaExtension):
    """Validates the operation's document with graphql-core's suggestions hidden."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # Already decided (a cached valid document, an error found before validation) or no
        # rules: nothing to validate, exactly as Strawberry's `_run_validation` would not.
        undecided = context.pre_execution_errors is None and context.validation_rules
        if undecided and context.graphql_document is not None:
            context.pre_execution_errors = validate(
                context.schema._schema,
                context.graphql_document,
                (*context.validation_rules, *_STRAWBERRY_RULES),
                hide_suggestions=True,
            )
        yield


class NoSuggestionsExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, built with `hide_suggestions=True` whatever it is passed."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)
