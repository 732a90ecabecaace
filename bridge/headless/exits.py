"""Exit codes of `nbbridge run` and `nbbridge export`.

0    ok (with --allow-errors: every cell ran, errors and timeouts included)
1    a cell failed (an error, or the kernel died)
2    bad input: no such notebook or kernelspec, invalid options or parameters, or
     parameters the kernel's language cannot take; nothing ran, nothing was written
3    a cell was still running after --timeout and was interrupted
4    the kernel could not start; nothing ran, nothing was written
130  interrupted (Ctrl-C)

Several notebooks exit with the highest of their runs' codes.
"""

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_TIMEOUT, EXIT_KERNEL_START, EXIT_INTERRUPTED = (
    0, 1, 2, 3, 4, 130)

EPILOG = """exit status:
  0    ok (with --allow-errors: every cell ran, even those with errors or timeouts)
  1    a cell failed, or the kernel died
  2    bad input (notebook, kernelspec, options, parameters); nothing was written
  3    a cell ran past --timeout and was interrupted
  4    the kernel could not start; nothing was written
  130  interrupted (Ctrl-C)
With several notebooks the highest of their codes."""


def worst(codes: list[int]) -> int:
    return max(codes, default=EXIT_OK)
