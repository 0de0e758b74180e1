"""Wire formats to the domain and back, from the vendors' example bodies."""
