"""The ``copick`` command line: the click command tree (``copick.cli.cli``), plugin loading
(``copick.cli.ext``) and the option decorators that plugins reuse (``copick.cli.util``)."""
