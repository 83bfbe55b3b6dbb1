"""``copick.cli.util`` resolvers as plugin commands call them: deprecated option spellings and legacy
tomogram options (values returned, warnings logged, usage errors).

python cli_resolvers.py WORK_DIR
"""

# ruff: noqa: B023  (every lambda is called at once by show(), inside its loop iteration)

import logging

import click

from copick.cli.util import resolve_deprecated_option, resolve_run_names, resolve_tomogram_uri


class Recorder(logging.Handler):
    """Keeps the messages logged to the plugin's logger."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


logger = logging.getLogger("plugin")
logger.propagate = False
recorder = Recorder()
logger.addHandler(recorder)
logger.setLevel(logging.DEBUG)


def show(label, call):
    try:
        value = call()
    except click.UsageError as err:
        value = f"UsageError: {err}"
    print(label, "->", repr(value), recorder.messages)
    recorder.messages.clear()


for new, old in [("a", None), (None, "b"), ("a", "b"), ("a", "a"), ((), ("x",)), ("", "b"), (None, None)]:
    show(
        f"resolve_deprecated_option {new!r} {old!r}",
        lambda: resolve_deprecated_option(new, old, old_flag="--old", new_flag="--new", logger=logger),
    )
show(
    "resolve_deprecated_option no logger",
    lambda: resolve_deprecated_option("a", "b", old_flag="-o", new_flag="-n"),
)
for uri, alg, vs in [
    ("wbp@10", None, None),
    (None, "wbp", 7.5),
    (None, "wbp", None),
    (None, None, 5.0),
    (None, None, None),
    ("wbp@10", "denoised", None),
]:
    show(
        f"resolve_tomogram_uri {uri!r} {alg!r} {vs!r}",
        lambda: resolve_tomogram_uri(uri, alg, vs, logger=logger),
    )
show("resolve_tomogram_uri default_vs", lambda: resolve_tomogram_uri(None, "wbp", None, default_vs=5.0))
show("resolve_run_names", lambda: resolve_run_names(("a", "b"), ("c",), legacy_flag="--runs"))
