"""One suite run against each adapter and its emulator."""
