"""Minting session credentials as AWS STS does: formats, session tokens, durations, trust."""
