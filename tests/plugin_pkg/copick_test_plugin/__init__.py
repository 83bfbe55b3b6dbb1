"""A tiny copick plugin used by the test-suite: commands registered through entry points."""
