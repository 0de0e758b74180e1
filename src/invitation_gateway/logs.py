"""What GraphQL's own error logging may say: no whole email, no input values in a traceback.

Strawberry logs every error of an operation at ERROR, with its traceback. Errors about a
request's variables quote the input (`found: {'email': 'ada@example.com'}`), and tracebacks of
masked errors carry the values they failed on. The filter keeps one line per error, emails
masked, and no traceback; bugs are logged once, with their stack, by `MaskUnexpectedErrors`.
"""

from __future__ import annotations

import logging

from .redaction import mask_emails

_LOGGER = "strawberry.execution"


class _MaskedOneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_emails(record.getMessage())
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


def quiet_graphql_errors() -> None:
    """Install the filter once (idempotent: every app built in a process shares the logger)."""
    logger = logging.getLogger(_LOGGER)
    if not any(isinstance(f, _MaskedOneLine) for f in logger.filters):
        logger.addFilter(_MaskedOneLine())
