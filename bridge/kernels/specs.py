"""Kernelspec discovery: every installed kernelspec (JUPYTER_PATH honoured) via jupyter_client,
and a spec made on the fly for any Python environment (named `env:<interpreter path>`)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from typing import Any

from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpec, KernelSpecManager

from bridge.kernels.environments import environment_argv
from bridge.kernels.traits import traits_of

ENVIRONMENT_PREFIX = "env:"

_PYTHON_ALIASES = {"python", f"python{sys.version_info[0]}",
                   f"python{sys.version_info[0]}.{sys.version_info[1]}"}


class BridgeKernelSpecs(KernelSpecManager):  # type: ignore[misc]
    """The installed kernelspecs, and ipykernel in any Python environment by its
    interpreter (`env:/path/to/.venv/bin/python`)."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if not kernel_name.startswith(ENVIRONMENT_PREFIX):
            return super().get_kernel_spec(kernel_name)
        python = kernel_name[len(ENVIRONMENT_PREFIX):]
        folder = os.path.dirname(python)
        # the environment's own tools first on PATH, as an activated environment has them
        # (a `!pip install` in a cell installs there)
        environ = {"PATH": os.pathsep.join([folder, os.environ.get("PATH", "")]),
                   "VIRTUAL_ENV": os.path.dirname(folder)}
        return KernelSpec(resource_dir=folder, argv=environment_argv(python),
                          display_name=f"Python ({python})", language="python", env=environ,
                          metadata={"nbbridge": {"environment": python}})


def environment_kernel_name(python: str) -> str:
    return ENVIRONMENT_PREFIX + python


def spec_python(spec: KernelSpec) -> str | None:
    """The interpreter a Python kernelspec runs, where it is not the bridge's own (jedi
    then completes against that environment's packages)."""
    if str(spec.language).lower() != "python":
        return None
    python = _argv0(list(spec.argv))
    return python if python != sys.executable and os.path.isfile(python) else None


def spec_manager() -> KernelSpecManager:
    # ensure_native_kernel: ipykernel in the bridge's own environment is always there
    return BridgeKernelSpecs(ensure_native_kernel=True)


def _argv0(argv: list[str]) -> str:
    if not argv:
        return ""
    if argv[0] in _PYTHON_ALIASES:
        return sys.executable  # what jupyter_client launches for a bare "python"
    return shutil.which(argv[0]) or argv[0]


def list_specs(learned: Callable[[str], str | None] = lambda name: None) -> dict[str, Any]:
    """The kernel/specs result: every kernelspec and the default kernel's name.
    ``learned`` gives the transport a kernel was found to need where its traits differ."""
    found = spec_manager().get_all_specs()
    specs = []
    for name, entry in sorted(found.items()):
        spec = entry["spec"]
        traits = traits_of(spec)
        argv0 = _argv0(spec.get("argv", []))
        specs.append({
            "name": name,
            "displayName": spec.get("display_name") or name,
            "language": spec.get("language", ""),
            "argv0": argv0,
            "resourceDir": entry["resource_dir"],
            "interruptMode": traits.interrupt_mode,
            "transport": learned(name) or traits.transport,
            "bridgeEnvironment": argv0 == sys.executable,
            "metadata": spec.get("metadata") or {},
        })
    default = NATIVE_KERNEL_NAME if NATIVE_KERNEL_NAME in found else (
        specs[0]["name"] if specs else NATIVE_KERNEL_NAME)
    return {"specs": specs, "default": default}


def format_table(result: dict[str, Any]) -> str:
    """`nbbridge kernels`: one row per kernelspec, the default marked with '*'."""
    rows = [("", "NAME", "LANGUAGE", "DISPLAY NAME", "TRANSPORT", "INTERRUPT", "EXECUTABLE")]
    for spec in result["specs"]:
        mark = "*" if spec["name"] == result["default"] else ""
        rows.append((mark, spec["name"], spec["language"], spec["displayName"],
                     spec["transport"], spec["interruptMode"], spec["argv0"]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
             + "  " + row[-1] for row in rows]
    return "\n".join(line.rstrip() for line in lines)
