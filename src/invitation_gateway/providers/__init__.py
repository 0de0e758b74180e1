"""Provider adapters: the port, the one upstream HTTP path, and one adapter per target kind."""
