"""Pick tables on disk that more than one import test reads: the Dynamo table with a tomolist shared by
the ``copick.ops`` import tests and the ``copick add picks-dynamo`` CLI tests (``tests/`` is on
``sys.path``). The callers skip themselves when pandas or dynamotable is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_dynamo_tomolist_table(folder: Path) -> tuple[Any, Path, Path]:
    """Write ``folder/t.tbl``, a Dynamo table of three particles (two in tomogram 4, one in tomogram 5),
    and ``folder/tomos.doc``, the tomolist naming those tomograms ``TS_4`` and ``TS_5``; return ``(the
    table's DataFrame, table path, tomolist path)``."""
    import dynamotable
    import pandas as pd

    df = pd.DataFrame(
        {
            "tag": [1, 2, 3],
            "tdrot": [10.0, 20.0, 30.0],
            "tilt": [40.0, 50.0, 60.0],
            "narot": [0.0, 5.0, 9.0],
            "cc": [0.1, 0.2, 0.3],
            "tomo": [4, 4, 5],
            "x": [1.0, 2.0, 3.0],
            "y": [4.0, 5.0, 6.0],
            "z": [7.0, 8.0, 9.0],
        }
    )
    table, tomolist = folder / "t.tbl", folder / "tomos.doc"
    dynamotable.write(df, str(table))
    tomolist.write_text("4 /data/TS_4.mrc\n5 /data/TS_5.rec\n")
    return df, table, tomolist
