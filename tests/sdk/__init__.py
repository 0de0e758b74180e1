"""The vendors' own Python SDKs driven against the emulators on a real socket."""
