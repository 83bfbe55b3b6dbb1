"""Start a child Python the way a terminal's foreground job starts, for the Ctrl-C tests.

A shell that runs a job in the background (``make test &``, CI runners, ``nohup``) sets SIGINT to
"ignore", every process below inherits it, and a Python started that way installs no
``KeyboardInterrupt`` handler: a SIGINT sent by a test would then be dropped. A user at a terminal
has the default disposition, so the child gets it back before it starts.
"""

from __future__ import annotations

import signal
import subprocess


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_interruptible(args: list[str]) -> subprocess.Popen:
    """``Popen(args)`` with stdout captured as text and SIGINT delivered as at a terminal."""
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
