"""GraphQL over HTTP to the app, with the exact upstream requests observed at the emulators."""
