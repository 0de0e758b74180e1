"""What the request's log line and span learn from GraphQL: operation, caller, error codes.

`RecordOperation` runs around each operation and, at its end, notes on the request's record
(`telemetry.request`) the operation's name and type, its root fields (only names the schema
has: a label must never carry what a caller made up), the caller, and the code of every
top-level error, after masking (a bug counts as `INTERNAL`). User errors in payloads are
noted by the mutations themselves.

`QuietSchema` replaces Strawberry's logging of every error with its traceback: expected
failures are the request line's codes, and a bug is logged once, with its stack, where it
is masked (`MaskUnexpectedErrors`).
"""

from __future__ import annotations

from collections.abc import Iterator

import strawberry
from graphql import FieldNode, GraphQLError, InlineFragmentNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from ..telemetry.request import current_request


class QuietSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: see the module docstring."""


class RecordOperation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request()
        if record is None:  # executed outside a request (schema tests, export)
            return
        context = self.execution_context
        caller = getattr(context.context, "caller", None)
        if caller is not None:
            record.caller = caller.id
        record.operation_name = context.operation_name
        operation = _operation(context)
        if operation is not None:
            record.operation_type = operation.operation.value
            record.root_fields = _root_fields(context, operation)
        result = context.result
        for error in (result.errors if result is not None else None) or ():
            record.note(str((error.extensions or {}).get("code", "INTERNAL")))


def _operation(context: ExecutionContext) -> OperationDefinitionNode | None:
    document = context.graphql_document
    if document is None:
        return None
    wanted = context.operation_name
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            wanted is None or (definition.name is not None and definition.name.value == wanted)
        ):
            return definition
    return None


def _root_fields(context: ExecutionContext, operation: OperationDefinitionNode) -> tuple[str, ...]:
    root = context.schema._schema.get_root_type(operation.operation)
    known = root.fields if root is not None else {}
    names: set[str] = set()
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names.update(
                s.name.value for s in selection.selection_set.selections if isinstance(s, FieldNode)
            )
    return tuple(sorted(name for name in names if name in known))
