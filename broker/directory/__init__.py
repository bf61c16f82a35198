"""The identity store and the identity → account-assignment mapping (IAM Identity Center)."""
