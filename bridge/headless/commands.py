"""The `nbbridge run` and `nbbridge export` commands: options in, one-line errors out."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.headless.exits import EPILOG, EXIT_BAD_INPUT, EXIT_INTERRUPTED, worst

if TYPE_CHECKING:  # the run's modules load kernels: only `nbbridge run` pays for them
    from bridge.headless.run import RunOptions, RunOutcome


RUN_DESCRIPTION = """\
Execute every code cell of each NOTEBOOK on a kernel of its own and save the outputs
(atomically, once the run ends). Cells tagged skip-execution are not run; an error in a
cell tagged raises-exception is expected and does not stop the run. Parameters (-p, -f)
are written in the language of the kernel that runs the notebook (python, R, julia,
scala, bash) into a cell tagged injected-parameters, right after the cell tagged
parameters (first, when none is), replacing the one a previous run injected."""


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = RUN_DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("notebooks", type=Path, nargs="+", metavar="NOTEBOOK",
                        help="the .ipynb file(s) to run")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", type=Path, metavar="OUT",
                       help="write the executed notebook here (one NOTEBOOK only; "
                            "default: in place)")
    where.add_argument("--inplace", action="store_true",
                       help="write the outputs into NOTEBOOK itself (the default)")
    parser.add_argument("--kernel", metavar="NAME",
                        help="kernelspec to run on (default: the notebook's own, else python3)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"),
                        help="a parameter, typed as papermill types it: True, False, None, "
                             "an int, a float, else a string (repeatable; wins over -f)")
    parser.add_argument("-f", "--parameters-file", type=Path, action="append", default=[],
                        metavar="FILE.yaml",
                        help="parameters from a YAML mapping, with their YAML types (lists "
                             "and mappings too, where the language has them; repeatable)")
    parser.add_argument("--timeout", type=float, metavar="S",
                        help="interrupt a cell still running after S seconds; it fails "
                             "the run (exit 3), or with --allow-errors gets a "
                             "CellTimeoutError output and the run goes on")
    parser.add_argument("--allow-errors", action="store_true",
                        help="run every cell even after errors and timeouts, and exit 0")
    parser.add_argument("--cwd", type=Path, metavar="DIR",
                        help="the kernel's working directory (default: the notebook's folder)")
    parser.add_argument("--log-output", action="store_true",
                        help="also print cell outputs to stderr as they arrive (streams, "
                             "and the text of results and errors)")
    parser.add_argument("--server", metavar="URL",
                        help="run on a kernel of this Jupyter Server or gateway (its token "
                             "from --token, the URL's ?token= or JUPYTER_TOKEN); the kernel "
                             "is shut down there when the run ends")
    parser.add_argument("--token", metavar="TOKEN", help="the --server's token")
    parser.add_argument("--ca-file", metavar="PEM",
                        help="the CA that signed an https --server's certificate")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="run up to N notebooks at once, each on its own kernel, each "
                             "written as it finishes (default 1)")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="the .ipynb file to export")
    parser.add_argument("--to", required=True, metavar="FORMAT",
                        help="html, pdf (printed by Chromium, no TeX), python, markdown, "
                             "slides, or nbconvert's script, rst, asciidoc, latex")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT",
                        help="file to write (default: next to NOTEBOOK, with the format's "
                             "extension)")


def run_command(args: argparse.Namespace) -> int:
    from bridge.errors import BridgeError

    try:
        runs = _run_options(args)
    except BridgeError as exc:
        return _fail("run", exc.message)
    from bridge.headless.batch import run_notebooks

    several = len(runs) > 1
    try:
        outcomes = asyncio.run(run_notebooks(runs, args.jobs, sys.stderr,
                                             lambda run, outcome: _report(run, outcome,
                                                                          several)))
    except KeyboardInterrupt:
        return _fail("run", "interrupted before the first cell ran; nothing was written",
                     EXIT_INTERRUPTED)
    code = worst([outcome.exit_code for outcome in outcomes])
    if several:
        failed = sum(1 for outcome in outcomes if outcome.exit_code)
        print(f"nbbridge run: {len(outcomes)} notebooks, {len(outcomes) - failed} ok, "
              f"{failed} failed (exit status {code})", file=sys.stderr)
    return code


def _run_options(args: argparse.Namespace) -> list[RunOptions]:
    """One RunOptions per notebook; a BridgeError for options that cannot work."""
    from bridge.errors import BridgeError, ErrorCode
    from bridge.headless.parameters import check_names, read_parameter_file, typed_value
    from bridge.headless.run import RunOptions, ServerTarget

    def bad(message: str) -> BridgeError:
        return BridgeError(ErrorCode.INVALID_PARAMS, message)

    notebooks: list[Path] = args.notebooks
    if args.timeout is not None and args.timeout <= 0:
        raise bad("--timeout must be a positive number of seconds")
    if args.jobs < 1:
        raise bad("--jobs must be at least 1")
    if args.output is not None and len(notebooks) > 1:
        raise bad(f"-o names one output, for one notebook; {len(notebooks)} were given "
                  "(they are written in place without it)")
    seen: set[Path] = set()
    for notebook in notebooks:
        if notebook.resolve() in seen:
            raise bad(f"{notebook} is given twice")
        seen.add(notebook.resolve())
    if args.cwd is not None and not args.cwd.is_dir():
        raise bad(f"--cwd {args.cwd}: no such folder")
    server = None
    if args.server is not None:
        if args.cwd is not None:
            raise bad("--cwd is for local kernels; a --server kernel runs where its server "
                      "puts it")
        server = ServerTarget(args.server, args.token or os.environ.get("JUPYTER_TOKEN"),
                              args.ca_file)
    elif args.token is not None or args.ca_file is not None:
        raise bad("--token and --ca-file go with --server URL")
    parameters: dict[str, object] | None = None
    if args.parameter or args.parameters_file:
        parameters = {}
        for path in args.parameters_file:
            parameters.update(read_parameter_file(path))
        # as papermill: -p wins over a file
        parameters.update({name: typed_value(text) for name, text in args.parameter})
        check_names(parameters)
    return [RunOptions(
        source=notebook, output=args.output or notebook, kernel=args.kernel,
        parameters=parameters, timeout=args.timeout, allow_errors=args.allow_errors,
        cwd=args.cwd.resolve() if args.cwd else None, log_output=args.log_output,
        label=str(notebook) if len(notebooks) > 1 else "",
        server=server) for notebook in notebooks]


def _report(run: RunOptions, outcome: RunOutcome, several: bool) -> None:
    """The line that ends one notebook's run."""
    message = f"{run.source}: {outcome.message}" if several else outcome.message
    # a kernel's own words (what it said before it failed to start) indented under ours
    message = message.replace("\n", "\n  ")
    if outcome.written is not None:
        message += f"; wrote {outcome.written}"
    if outcome.exit_code:
        print(f"nbbridge run: error: {message}", file=sys.stderr)
    else:
        print(f"nbbridge run: {message}", file=sys.stderr)
    sys.stderr.flush()


def export_command(args: argparse.Namespace) -> int:
    from bridge.errors import BridgeError
    from bridge.export import export_file

    try:
        result = export_file(args.notebook, args.to, args.output)
    except BridgeError as exc:
        return _fail("export", exc.message)
    except KeyboardInterrupt:
        return _fail("export", "interrupted; nothing was written", EXIT_INTERRUPTED)
    print(f"nbbridge export: wrote {result['path']} ({result['bytes']} bytes)", file=sys.stderr)
    return 0


def _fail(command: str, message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"nbbridge {command}: error: {message}", file=sys.stderr)
    return code
