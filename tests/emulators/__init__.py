"""The emulators against the vendors' documented behaviour."""
