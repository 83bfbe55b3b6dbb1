"""Backend modules under their upstream paths (``copick.impl.filesystem``, ``copick.impl.overlay``)."""
