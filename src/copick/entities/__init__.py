"""The entity classes of copick: one class per concept, independent of the storage backend."""
