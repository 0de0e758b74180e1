"""What logs may show of personal data: emails masked (`a***@example.com`).

The audit log keeps emails in full (that is its job); application logs never do.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def mask_emails(text: str) -> str:
    """Every email in `text` as its first character, `***` and its domain."""
    return _EMAIL.sub(r"\1***@\2", text)
