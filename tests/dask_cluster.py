"""The ``dask.distributed`` cluster of the tests that send work to Dask (``tests/`` is on ``sys.path``):
two single-threaded worker processes on the loopback interface. The callers skip themselves when
``distributed`` is missing (``pytest.importorskip``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def local_cluster() -> Iterator[tuple[Any, Any]]:
    """Yield ``(cluster, client)``: a ``LocalCluster`` of two worker processes of one thread each on
    127.0.0.1 (dashboard on a free port, logs below errors silenced) and a client of it that is not
    made the default one (so work only reaches it when the client or its address is passed)."""
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield cluster, client
