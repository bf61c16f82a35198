"""The client side: profiles, the credential chain (cache → refresh → mint), and the ways
credentials reach tools (credential_process, exec, env, AWS config, refresher, endpoints).

Import-light on purpose: ``broker.client.process`` is the hot path and loads almost nothing.
"""

__all__: list[str] = []
