"""The one way into the OS keyring, shared by the credential store and the directory.

``gate``: the allow-list of real OS keyrings, the Secret Service lock check and the retries of
transient failures. ``home_id``: the data directory's id that scopes every entry, so two data
directories of one user never read each other's secrets. Kept apart from ``broker.store`` so
the directory (which may not import the client's store) goes through the same gate.
Importing this package loads nothing: ``credential-process``'s fast path imports ``home_id``.
"""
