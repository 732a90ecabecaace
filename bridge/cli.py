"""The `nbbridge` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bridge import __version__
from bridge.headless.commands import (
    add_export_arguments,
    add_run_arguments,
    export_command,
    run_command,
)
from bridge.kernels.host.host import add_host_arguments, host_command


def _parse_size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower().removesuffix("b").removesuffix("i")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbbridge",
        description="Jupyter kernels and .ipynb files for any editor, over LSP-framed JSON-RPC.",
    )
    parser.add_argument("--version", action="version", version=f"nbbridge {__version__}")
    parser.add_argument("--log-level", default="WARNING",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="stderr log level (default WARNING)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the bridge over stdio (LSP framing)")
    serve.add_argument("--max-notebook-size", type=_parse_size, default="1GiB",
                       help="largest notebook file accepted, e.g. 512MiB (default 1GiB)")
    serve.add_argument("--warm-pool", action="store_true",
                       help="keep one default kernel started ahead of the next kernel/start")
    serve.add_argument("--kernels", choices=["durable", "direct"],
                       default=os.environ.get("NBBRIDGE_KERNELS", "durable"),
                       help="durable: kernels in the per-user kernel host, they outlive "
                       "the editor (default); direct: kernels are this process's children")
    add_host_arguments(commands.add_parser(
        "kernel-host", help="the per-user process that owns durable kernels "
        "(started by `nbbridge serve` when needed)"))
    commands.add_parser("kernels", help="list the installed kernelspecs and the Python "
                        "environments found (the current folder's own first)")
    add_run_arguments(commands.add_parser(
        "run", help="execute every code cell of a notebook and save the outputs"))
    add_export_arguments(commands.add_parser(
        "export", help="export a notebook to html, pdf, python, markdown or slides"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        from bridge.server import serve

        return serve(args.max_notebook_size, args.warm_pool, args.kernels == "durable")
    if args.command == "kernel-host":
        return host_command(args)
    if args.command == "kernels":
        from bridge.kernels.environments import list_for_cli
        from bridge.kernels.specs import format_table, list_specs

        print(format_table(list_specs()))
        print()
        print(list_for_cli())
        return 0
    if args.command == "run":
        return run_command(args)
    if args.command == "export":
        return export_command(args)
    parser.print_help()
    return 2
