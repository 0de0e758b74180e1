"""A limit on root fields per operation: one request must not fan out into many upstream calls.

Depth, token and alias limits bound the size of a document; this bounds its breadth at the
root, where every field is a use case (`invitation`, `createInvitation`, …) that may call an
upstream. Fragments spread at the root count with their fields.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


def max_root_fields(limit: int) -> type[ValidationRule]:
    """A validation rule class refusing operations with more than `limit` root fields."""

    class MaxRootFields(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._fragments: dict[str, FragmentDefinitionNode] = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = _count(node.selection_set, self._fragments, set())
            if count > limit:
                self.report_error(
                    GraphQLError(
                        f"an operation may select at most {limit} root fields ({count} given)",
                        node,
                        extensions={"code": "INVALID_INPUT"},
                    )
                )

    return MaxRootFields


def _count(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> int:
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            total += 0 if selection.name.value.startswith("__") else 1
        elif isinstance(selection, InlineFragmentNode):
            total += _count(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:  # cycles are another rule's error
                total += _count(fragments[name].selection_set, fragments, seen | {name})
    return total
