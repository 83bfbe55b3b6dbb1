"""Run user scripts one after another in this interpreter, each with its own stdout captured.

    python run_scripts.py JOBS_JSON

``JOBS_JSON`` is a list of ``[name, script_path, [args...]]``. Each script is executed as
``__main__`` with ``sys.argv = [script_path, *args]`` (one interpreter for all of them keeps the
test fast: importing copick and zarr costs about a second per process). Prints one JSON object:
``{name: {"stdout": ..., "error": null or the traceback's last lines}}``.
"""

import contextlib
import io
import json
import sys
import traceback
import warnings


def run(name, path, args):
    buf = io.StringIO()
    sys.argv = [path, *args]
    namespace = {"__name__": "__main__", "__file__": path}
    error = None
    with open(path) as fh:
        code = compile(fh.read(), path, "exec")
    try:
        with contextlib.redirect_stdout(buf), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, namespace)
    except BaseException as exc:  # a script's failure (even SystemExit) is data here
        error = "".join(traceback.format_exception(exc)[-4:])
    return {"stdout": buf.getvalue(), "error": error}


def main():
    jobs = json.loads(sys.argv[1])
    results = {name: run(name, path, args) for name, path, args in jobs}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
