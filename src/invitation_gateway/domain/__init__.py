"""The invitation domain: values, rules and the error tree. No I/O, no HTTP, no GraphQL."""
