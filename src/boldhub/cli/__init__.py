"""The `boldhub` command line: one module per group, each a thin call into the zones."""
