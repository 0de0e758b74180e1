"""The one error type for configuration the gateway cannot use, whoever finds it.

Settings, the connections, policy and API-keys files, the trusted documents and the composition
root all raise it; `cli.main` prints it as `configuration error: …` lines and exits 2, and `serve`
reports it as one line when start-up fails. It lives apart so that any layer can raise it
without importing the settings.
"""

from __future__ import annotations


class ConfigurationError(ValueError):
    """A setting cannot be used; `str()` names the variable or entry and the problem, never a
    value (a rejected value may be a secret)."""
