"""HTTP: the STS-compatible Query API with SigV4 verification, authorize API, endpoints."""
