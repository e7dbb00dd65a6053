"""Where sage-mcp keeps state between calls: local files and sqlite in the data dir (a Redis
implementation of the same interfaces serves replicas)."""

from sage_mcp.stores.fingerprints import Fingerprint, FingerprintStore, SqliteFingerprintStore

__all__ = ["Fingerprint", "FingerprintStore", "SqliteFingerprintStore"]
