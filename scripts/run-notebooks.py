"""Execute every notebook under notebooks/ headlessly with the tslab TypeScript kernel.

    npm run notebooks:test                          # build, then run all; exit 1 if any cell fails
    /usr/bin/python3 scripts/run-notebooks.py --write notebooks/01-decouple-a-real-model.ipynb

Why a runner of our own: a failing tslab cell reports an empty error through nbconvert (tslab
prints the compiler or runtime message on the cell's stderr and replies status "error" with no
ename), so CI would only say "<Error>:". This prints the failing cell's source and everything it
wrote to stderr, and ends with the plain "N passed, N failed" line CI reads.

Run it with Debian's /usr/bin/python3 (python3-nbclient, jupyter-client): the first python3 on
the PATH may be another interpreter without the Jupyter modules. The kernel spec is the committed
notebooks/jupyter/kernels/tslab/kernel.json (`tslab install` wants IPython), found through
JUPYTER_PATH; its `tslab` command is node_modules/.bin/tslab, put first on the PATH here.

--write stores the executed outputs back into each notebook that passed every cell (a failed
notebook is never rewritten), so the committed outputs are the runner's, not pasted.
"""

import argparse
import glob
import os
import sys
import tempfile
import time

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
except ImportError as e:  # pragma: no cover - environment check
    sys.exit(
        f"run-notebooks: {e}. Install Debian's Jupyter: apt-get install -y --no-install-recommends "
        "jupyter-nbconvert python3-nbclient jupyter-client, and run this with /usr/bin/python3"
    )

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, "notebooks")
KERNEL = "tslab"


def environment():
    """PATH with the project's tslab first, JUPYTER_PATH with the committed kernel spec."""
    bin_dir = os.path.join(ROOT, "node_modules", ".bin")
    if not os.path.exists(os.path.join(bin_dir, "tslab")):
        sys.exit(f"run-notebooks: {bin_dir}/tslab not found; run npm ci (tslab is a devDependency)")
    if not os.path.exists(os.path.join(ROOT, "dist", "src", "index.js")):
        sys.exit("run-notebooks: dist/src/index.js not found; the notebooks import the compiled library: run npm run build")
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    jp = os.path.join(NOTEBOOKS, "jupyter")
    os.environ["JUPYTER_PATH"] = jp + (os.pathsep + os.environ["JUPYTER_PATH"] if os.environ.get("JUPYTER_PATH") else "")
    # Debian's Python runs with frozen modules; the debugger's warning about it is noise here.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def cell_messages(cell):
    """What a failed tslab cell said: its stderr stream and any error outputs."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            tb = out.get("traceback") or []
            parts.append("\n".join(tb) if tb else f"{out.get('ename', '')}: {out.get('evalue', '')}")
    text = "".join(parts).strip()
    return text or "(the kernel reported an error but printed nothing)"


def indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.splitlines())


def tail(log, lines=30):
    log.flush()
    log.seek(0)
    text = log.read().decode("utf-8", "replace").strip()
    return "\n".join(text.splitlines()[-lines:])


def run_notebook(path, timeout):
    """Runs one notebook top to bottom; returns (notebook, None) or (notebook, failure text)."""
    # The kernel process's own stderr (zeromq noise while it shuts down, or why it could not start)
    # is kept aside and shown only when the notebook fails.
    with tempfile.TemporaryFile() as log:
        try:
            nb, failure = execute(path, timeout, log)
        except Exception as e:  # the kernel did not start, the notebook is unreadable, …
            nb, failure = None, f"{type(e).__name__}: {e}"
        if failure is not None:
            extra = tail(log)
            if extra:
                failure += f"\n  kernel process stderr (last lines):\n{indent(extra)}"
        return nb, failure


def execute(path, timeout, log):
    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != KERNEL:
        return nb, f"kernelspec is {kernel!r}, expected {KERNEL!r} (set the notebook's kernel to TypeScript (tslab))"
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL,
        # The kernel's working directory is the notebook's folder: imports of '../dist/...' resolve from there.
        resources={"metadata": {"path": os.path.dirname(path)}},
        record_timing=False,  # no timestamps in the committed cells' metadata
        allow_errors=False,
    )
    code_index = 0
    with client.setup_kernel(stderr=log):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            code_index += 1
            t0 = time.monotonic()
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                return nb, f"code cell {code_index} (cell {index + 1}) timed out after {timeout} s:\n{indent(cell.source)}"
            except DeadKernelError as e:
                return nb, f"code cell {code_index} (cell {index + 1}): the kernel died ({e}):\n{indent(cell.source)}"
            except CellExecutionError:
                return nb, (
                    f"code cell {code_index} (cell {index + 1}) failed:\n{indent(cell.source)}\n"
                    f"  error:\n{indent(cell_messages(cell))}"
                )
            dt = time.monotonic() - t0
            if dt > 5:
                print(f"    cell {code_index}: {dt:.1f} s", flush=True)
    return nb, None


def main():
    ap = argparse.ArgumentParser(description="Execute notebooks with the tslab kernel.")
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    ap.add_argument("--write", action="store_true", help="store the outputs back into each notebook that passed")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = ap.parse_args()

    environment()
    paths = [os.path.abspath(p) for p in args.notebooks] or sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))
    if not paths:
        sys.exit(f"run-notebooks: no notebooks in {NOTEBOOKS}")
    passed = failed = 0
    for path in paths:
        name = os.path.relpath(path, ROOT)
        print(f"RUN  {name}", flush=True)
        t0 = time.monotonic()
        nb, failure = run_notebook(path, args.timeout)
        dt = time.monotonic() - t0
        if failure is None:
            passed += 1
            if args.write:
                nbformat.write(nb, path)
            print(f"PASS {name} ({dt:.1f} s{', outputs written' if args.write else ''})", flush=True)
        else:
            failed += 1
            print(f"FAIL {name} ({dt:.1f} s)\n  {failure}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
