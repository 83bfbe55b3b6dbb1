"""Interop with copick 1.31.0 (issue 5): scripts that run under either implementation, and helpers.

``write_project.py``, ``describe.py``, ``run_scripts.py`` and ``user_scripts/*.py`` are never
imported: their text is run by an interpreter of either implementation (ours: the test session's
``sys.executable``; the reference: ``bench/refenv.py``'s cached environment). ``harness.py`` is
imported by ``tests/test_interop.py`` only.
"""
