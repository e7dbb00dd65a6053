"""Where sage-mcp keeps state between calls: local files and sqlite in the data dir, and Redis for
hosted replicas (:mod:`sage_mcp.stores.redis`, needs the ``hosted`` extra; not imported here)."""

from sage_mcp.stores.fingerprints import Fingerprint, FingerprintStore, SqliteFingerprintStore

__all__ = ["Fingerprint", "FingerprintStore", "SqliteFingerprintStore"]
