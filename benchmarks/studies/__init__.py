"""The evidence and speed studies behind the claim suite: scripts that train or replay runs and write the
docs' evidence pages (``docs/evidence/``) and their exports (``evidence/``)."""
