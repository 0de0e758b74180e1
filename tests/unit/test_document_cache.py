"""The parse/validate cache: valid documents are parsed once; errors keep their shape every time."""

from __future__ import annotations

from typing import Any

from graphql import parse

from invitation_gateway.schema import Limits, build_schema
from invitation_gateway.schema.documents import DocumentRules

VALID = "query Q { __typename }"
SYNTAX = "query Q { __typename "
INVALID = "query Q { nosuchfield }"
DEEP = "query { invitations(targets: []) { edges { node { target { id } } } } }"


async def run(schema: Any, query: str) -> dict[str, Any]:
    result = await schema.execute(query)
    return {
        "data": result.data,
        "errors": [e.formatted for e in result.errors or []],
    }


async def test_a_valid_document_is_parsed_and_validated_once() -> None:
    """The second request with the same text is a cache hit, with the same answer."""
    schema = build_schema()
    first = await run(schema, VALID)
    second = await run(schema, VALID)
    assert first == second == {"data": {"__typename": "Query"}, "errors": []}
    assert schema.documents.hits == 1


async def test_errors_are_never_cached_and_keep_their_codes() -> None:
    """A syntax error and a validation error answer the same, with their codes, each time."""
    schema = build_schema()
    for query in (SYNTAX, INVALID):
        answers = [await run(schema, query) for _ in range(3)]
        assert answers[0] == answers[1] == answers[2]
        assert answers[0]["errors"]
        assert all("code" in e["extensions"] for e in answers[0]["errors"])
    assert schema.documents.hits == 0


async def test_limits_still_apply_to_cached_rules() -> None:
    """The depth limit, built once, refuses a deep document on every request."""
    schema = build_schema(Limits(max_depth=3))
    for _ in range(2):
        answer = await run(schema, DEEP)
        assert answer["data"] is None
        assert "exceeds maximum operation depth" in answer["errors"][0]["message"]


async def test_the_token_cap_applies() -> None:
    """A document over max_tokens is refused while parsing."""
    schema = build_schema(Limits(max_tokens=100))
    query = "query { " + " ".join(f"a{i}: __typename" for i in range(60)) + " }"
    answer = await run(schema, query)
    assert answer["data"] is None
    assert "tokens" in answer["errors"][0]["message"]


async def test_introspection_off_is_not_bypassed_by_a_cache_of_another_schema() -> None:
    """Each schema has its own cache: what one allowed, the other still refuses."""
    open_schema, closed_schema = build_schema(), build_schema(introspection=False)
    query = "{ __schema { queryType { name } } }"
    assert (await run(open_schema, query))["errors"] == []
    assert (await run(closed_schema, query))["data"] is None


def test_the_cache_is_bounded_and_keeps_the_most_recent() -> None:
    """An LRU: past capacity, the least recently used document goes first."""
    rules = DocumentRules([], max_tokens=1000, capacity=2)
    for name in ("a", "b"):
        rules.remember(name, parse(f"query {name} {{ x }}"))
    assert rules.known("a") is not None  # now "b" is the least recent
    rules.remember("c", parse("query c { x }"))
    assert rules.known("b") is None
    assert rules.known("a") is not None
    assert rules.known("c") is not None
