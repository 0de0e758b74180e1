"""Which media type answers a GraphQL request: negotiation of the Accept header.

The GraphQL-over-HTTP specification gives a response one of two media types: the preferred
`application/graphql-response+json`, and `application/json` for legacy clients. `negotiate`
picks one per Accept header (cached: clients send the same few); `error_content_type` is what
the refusals in front of GraphQL (401, 413, 429, malformed requests) answer with.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
JSON: Final = "application/json"
# Since the spec's watershed (2025-01-01) a request with no Accept header is answered as if it
# accepted application/graphql-response+json (§ Body, "Legacy watershed").
NO_ACCEPT_HEADER: Final = GRAPHQL_RESPONSE_JSON
CONTENT_TYPES: Final = {
    GRAPHQL_RESPONSE_JSON: f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8",
    JSON: f"{JSON}; charset=utf-8",
}
_CONTENT_TYPE_BYTES: Final = {key: value.encode() for key, value in CONTENT_TYPES.items()}


@lru_cache(maxsize=256)  # clients send the same few Accept headers over and over
def negotiate(accept: str | None) -> str | None:
    """The response media type for this Accept header, or None when it admits neither ours.

    The higher quality wins. On a tie, graphql-response+json when the client names it, and
    application/json when only a wildcard matches both: `*/*` is what fetch, curl and most HTTP
    libraries send on their own, so those are the legacy clients.
    """
    if accept is None or not accept.strip():
        return NO_ACCEPT_HEADER
    ranges = [_media_range(part) for part in accept.split(",")]
    graphql_q, named = _quality(ranges, "graphql-response+json")
    json_q, _ = _quality(ranges, "json")
    if graphql_q > 0 and (graphql_q > json_q or (graphql_q == json_q and named)):
        return GRAPHQL_RESPONSE_JSON
    if json_q > 0:
        return JSON
    if graphql_q > 0:
        return GRAPHQL_RESPONSE_JSON
    return None


def _media_range(part: str) -> tuple[str, float]:
    media, *params = part.split(";")
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = min(max(float(value), 0.0), 1.0)
            except ValueError:
                q = 0.0  # a range we cannot read admits nothing
    return media.strip().lower(), q


def _quality(ranges: list[tuple[str, float]], subtype: str) -> tuple[float, bool]:
    """`application/<subtype>`'s quality, from its most specific matching range (RFC 9110
    §12.5.1), and whether a range names it exactly."""
    specificities = {f"application/{subtype}": 2, "application/*": 1, "*/*": 0}
    best_specificity, best_q = -1, 0.0
    for media, q in ranges:
        specificity = specificities.get(media, -1)
        if specificity < 0:
            continue  # another media type altogether
        if specificity > best_specificity or (specificity == best_specificity and q > best_q):
            best_specificity, best_q = specificity, q
    return best_q, best_specificity == 2


def error_content_type(accept: str | None) -> bytes:
    """The Content-Type of a refusal: the negotiated media type, else application/json."""
    return _CONTENT_TYPE_BYTES[negotiate(accept) or JSON]
