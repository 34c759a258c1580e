"""The spec's API routes, one module per route family."""
