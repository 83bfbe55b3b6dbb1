"""Helpers of ``tests/test_cli_interop.py``: the ``copick`` command of copick 1.31.0 and ours on copies of
one project, and copick-utils 1.10.2 installed beside each."""
