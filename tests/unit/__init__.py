"""Unit tests: validation, global ids, settings, Retry-After, the ConductorOne token flow."""
