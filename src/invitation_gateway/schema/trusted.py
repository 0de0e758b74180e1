"""Trusted documents: operations registered ahead of time, sent by their SHA-256.

A browser frontend's operations are known when it is built (graphql-codegen's client preset
and Relay write them to a manifest). Loaded from `GATEWAY_GRAPHQL__TRUSTED_DOCUMENTS_FILE`,
each is parsed and validated once, at start-up (a document that does not validate stops
start-up, naming it), and pinned in the schema's document cache. A client then sends only its
id: `"documentId": "sha256:<hex>"` (GraphQL over HTTP, persisted documents) or Apollo's
`"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`. With
`GATEWAY_GRAPHQL__TRUSTED_DOCUMENTS_ONLY=true` no other document runs: a browser in
production can then send nothing its own build did not contain.

The file is JSON, either a map of id to document (`{"<sha256 hex>": "query …"}`, the
codegen/Relay form) or Apollo's manifest (`{"format": "apollo-persisted-query-manifest",
"operations": [{"id", "body", …}]}`). Every id must be the SHA-256 of its document: an id is
a promise about the text, and a wrong one would run something else than the client built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from graphql import GraphQLError, parse, validate

from ..configuration_error import ConfigurationError
from .documents import DocumentRules

_PREFIX = "sha256:"


def document_id(query: str) -> str:
    """The id of a document's text: the hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(query.encode()).hexdigest()


class TrustedDocuments:
    """The registered documents, by id; `only` refuses any other."""

    def __init__(self, documents: Mapping[str, str], *, only: bool) -> None:
        self._by_id = dict(documents)
        self.only = only

    def __len__(self) -> int:
        return len(self._by_id)

    def query(self, sent_id: str) -> str | None:
        """The text registered under `sent_id` (`sha256:<hex>` or bare hex), if any."""
        key = sent_id.removeprefix(_PREFIX).lower()
        return self._by_id.get(key)

    def knows_text(self, query: str) -> bool:
        return document_id(query) in self._by_id


def load_trusted_documents(
    path: Path, rules: DocumentRules, schema: object, *, only: bool
) -> TrustedDocuments:
    """Read, check, parse and validate every document of the file; pin them in `rules`."""
    where = f"GATEWAY_GRAPHQL__TRUSTED_DOCUMENTS_FILE ({path})"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ConfigurationError(f"{where}: not JSON ({exc})") from None
    documents = _entries(raw, where)
    graphql_schema = getattr(schema, "_schema")  # noqa: B009 - Strawberry's graphql-core schema
    for key, text in documents.items():
        if document_id(text) != key:
            raise ConfigurationError(f"{where}: {key}: is not the SHA-256 of its document")
        try:
            document = parse(text, max_tokens=rules.max_tokens)
        except GraphQLError as exc:
            raise ConfigurationError(f"{where}: {key}: {exc.message}") from None
        errors = validate(graphql_schema, document, rules.rules)
        if errors:
            raise ConfigurationError(f"{where}: {key}: {errors[0].message}")
        rules.pin(text, document)
    return TrustedDocuments(documents, only=only)


def _entries(raw: object, where: str) -> dict[str, str]:
    if isinstance(raw, dict) and raw.get("format") == "apollo-persisted-query-manifest":
        operations = raw.get("operations")
        if not isinstance(operations, list):
            raise ConfigurationError(f"{where}: `operations` must be a list")
        pairs = [(op.get("id"), op.get("body")) for op in operations if isinstance(op, dict)]
        if len(pairs) != len(operations):
            raise ConfigurationError(f"{where}: every operation must be an object")
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise ConfigurationError(f"{where}: expected an object of id to document")
    found: dict[str, str] = {}
    for key, text in pairs:
        if not isinstance(key, str) or not isinstance(text, str):
            raise ConfigurationError(f"{where}: every id and document must be a string")
        found[key.removeprefix(_PREFIX).lower()] = text
    return found
