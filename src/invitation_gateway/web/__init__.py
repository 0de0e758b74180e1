"""Browser-facing pieces of the gateway: the offline GraphiQL playground and its assets."""
