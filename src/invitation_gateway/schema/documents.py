"""Parse and validate a document once: the rules are built once, valid documents are cached.

Parsing and validating the same document on every request was about half of the CPU a
create cost (issue "Fast"). `DocumentRules` holds the validation rules of one schema, built
when the schema is (graphql-core's specified rules, the depth, alias and root-field limits,
and no introspection where it is off), and an LRU of the documents that passed them, keyed by
the exact query text. `documents.extension()` is a per-operation extension that puts the
rules and the token cap on the operation, and on a hit hands Strawberry the parsed document
with "no validation errors", so it neither parses nor validates again.

Only documents that validated are cached: a syntax or validation error goes through
Strawberry's path every time, with the same messages and codes as before (a cached error
would be shared between requests, and errors are what masking and codes decorate). A cached
document is the same tree for every request that sends its text; graphql-core never changes a
document while executing it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    specified_rules,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from .suggestions import validate_without_suggestions


class DocumentRules:
    """One schema's validation rules and token cap, and the documents known to pass them."""

    def __init__(
        self,
        rules: Sequence[type[ASTValidationRule]],
        *,
        max_tokens: int,
        capacity: int = 512,
        hide_suggestions: bool = False,
    ) -> None:
        self.rules = (*specified_rules, *rules)
        self.max_tokens = max_tokens
        self.hide_suggestions = hide_suggestions  # no "Did you mean" (`suggestions.py`)
        self.capacity = capacity
        self._valid: OrderedDict[str, DocumentNode] = OrderedDict()
        self._pinned: dict[str, DocumentNode] = {}  # trusted documents: never evicted
        self.hits = 0

    def known(self, query: str) -> DocumentNode | None:
        """The parsed document of `query` if it validated before (and is still cached)."""
        pinned = self._pinned.get(query)
        if pinned is not None:
            self.hits += 1
            return pinned
        document = self._valid.get(query)
        if document is not None:
            self._valid.move_to_end(query)
            self.hits += 1
        return document

    def remember(self, query: str, document: DocumentNode) -> None:
        """`query` parsed to `document` and passed every rule."""
        self._valid[query] = document
        self._valid.move_to_end(query)
        if len(self._valid) > self.capacity:
            self._valid.popitem(last=False)

    def pin(self, query: str, document: DocumentNode) -> None:
        """`query` was validated at start-up (a trusted document): keep it for good."""
        self._pinned[query] = document

    def extension(self) -> Callable[[], SchemaExtension]:
        """The per-operation extension factory that applies these rules and this cache."""
        return lambda: _CachedDocuments(self)


class _CachedDocuments(SchemaExtension):
    def __init__(self, rules: DocumentRules) -> None:
        self._rules = rules
        self._hit = False

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = self._rules.rules
        context.parse_options["max_tokens"] = self._rules.max_tokens
        query = context.query
        if query is not None and context.graphql_document is None:
            document = self._rules.known(query)
            if document is not None:
                self._hit = True
                context.graphql_document = document
                context.pre_execution_errors = []  # Strawberry then skips validation
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if _unnamed_among_several(context):
            # Strawberry would run the first; GraphQL's GetOperation says it is a request error.
            error = GraphQLError(
                "Must provide operation name if query contains multiple operations.",
                extensions={"code": "BAD_REQUEST"},
            )
            context.pre_execution_errors = [error]
            self._hit = True  # an error: nothing to remember
        elif self._rules.hide_suggestions and context.pre_execution_errors is None:
            # Validated here rather than by Strawberry, which cannot hide suggestions.
            context.pre_execution_errors = validate_without_suggestions(context)
        yield
        if self._hit or context.query is None or context.graphql_document is None:
            return
        if context.pre_execution_errors == []:  # validated, and nothing failed
            self._rules.remember(context.query, context.graphql_document)


def _unnamed_among_several(context: ExecutionContext) -> bool:
    """No operationName given, and the document holds more than one operation."""
    document = context.graphql_document
    if document is None or getattr(context, "_provided_operation_name", None) is not None:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return len(operations) > 1
