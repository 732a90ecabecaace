"""The `nbbridge run` and `nbbridge export` commands: options in, one-line errors out."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bridge.headless.exits import EXIT_BAD_INPUT, EXIT_INTERRUPTED


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="the .ipynb file to run")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", type=Path, metavar="OUT",
                       help="write the executed notebook here (default: in place)")
    where.add_argument("--inplace", action="store_true",
                       help="write the outputs into NOTEBOOK itself (the default)")
    parser.add_argument("--kernel", metavar="NAME",
                        help="kernelspec to run on (default: the notebook's own)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"),
                        help="papermill-style parameter, injected after the cell tagged "
                             "'parameters' (repeatable)")
    parser.add_argument("--timeout", type=float, metavar="S",
                        help="interrupt and fail a cell still running after S seconds")
    parser.add_argument("--allow-errors", action="store_true",
                        help="run every cell even after errors, and exit 0")


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
    from bridge.headless.run import RunOptions, run_notebook

    if args.timeout is not None and args.timeout <= 0:
        return _fail("run", "--timeout must be a positive number of seconds")
    options = RunOptions(
        source=args.notebook, output=args.output or args.notebook, kernel=args.kernel,
        parameters=[(name, value) for name, value in args.parameter],
        timeout=args.timeout, allow_errors=args.allow_errors)
    try:
        outcome = asyncio.run(run_notebook(options))
    except BridgeError as exc:
        return _fail("run", exc.message)
    except KeyboardInterrupt:
        return _fail("run", "interrupted before the first cell ran; nothing was written",
                     EXIT_INTERRUPTED)
    if outcome.exit_code:
        return _fail("run", f"{outcome.message}; wrote {outcome.written}", outcome.exit_code)
    print(f"nbbridge run: {outcome.message}; wrote {outcome.written}", file=sys.stderr)
    return 0


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
