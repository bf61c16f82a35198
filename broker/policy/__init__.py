"""The IAM policy language: parse and validate, match, conditions, evaluate, explain."""
