"""The client-side credential store: OS keyring entries, a secret-free index, locking."""
