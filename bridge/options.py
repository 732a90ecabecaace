"""The bridge's settings from `initializationOptions`: one typed tree, read once.

    {"warmPool": bool, "kernelStartTimeout": seconds, "durableKernels": bool,
     "cullIdleAfter": seconds | null (never),
     "language": {"completionDeadlineMs": ms, "jediGraceMs": ms, "hoverDeadlineMs": ms}}

Every member is optional. A bad value keeps its default and is named in `problems`, which
the server reports to the user once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LanguageSettings:
    """Deadlines of the language features, in seconds."""

    kernel_deadline: float = 0.080
    jedi_grace: float = 0.020
    hover_deadline: float = 0.500


@dataclass
class KernelSettings:
    warm_pool: bool | None = None  # None: as `nbbridge serve --warm-pool` said
    start_timeout: float | None = None  # None: the kernel layer's default
    remote_start_timeout: float | None = None  # a server's kernel (gateways are slow)
    durable: bool | None = None  # None: as `nbbridge serve --kernels` said
    cull_after: float | None = None
    never_cull: bool = False


@dataclass
class BridgeOptions:
    kernels: KernelSettings = field(default_factory=KernelSettings)
    language: LanguageSettings = field(default_factory=LanguageSettings)
    problems: list[str] = field(default_factory=list)


_LANGUAGE_MILLISECONDS = {"completionDeadlineMs": "kernel_deadline",
                          "jediGraceMs": "jedi_grace", "hoverDeadlineMs": "hover_deadline"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_options(raw: Any) -> BridgeOptions:
    """The options tree for an initialize request's `initializationOptions`."""
    options = BridgeOptions()
    if raw is None:
        return options
    if not isinstance(raw, dict):
        options.problems.append("initializationOptions must be an object")
        return options
    if "warmPool" in raw:
        options.kernels.warm_pool = bool(raw["warmPool"])
    if "durableKernels" in raw:
        options.kernels.durable = bool(raw["durableKernels"])
    if "cullIdleAfter" in raw:
        cull = raw["cullIdleAfter"]
        if cull is None:
            options.kernels.never_cull = True
        elif _number(cull) and cull > 0:
            options.kernels.cull_after = float(cull)
        else:
            options.problems.append("initializationOptions.cullIdleAfter must be a number "
                                    "of seconds > 0, or null for never")
    for option, attribute in (("kernelStartTimeout", "start_timeout"),
                              ("remoteKernelStartTimeout", "remote_start_timeout")):
        timeout = raw.get(option)
        if timeout is None:
            continue
        if _number(timeout) and timeout > 0:
            setattr(options.kernels, attribute, float(timeout))
        else:
            options.problems.append(
                f"initializationOptions.{option} must be a number of seconds > 0")
    language = raw.get("language")
    if language is None:
        return options
    if not isinstance(language, dict):
        options.problems.append("initializationOptions.language must be an object")
        return options
    for option, attribute in _LANGUAGE_MILLISECONDS.items():
        value = language.get(option)
        if value is None:
            continue
        if not _number(value) or value < 0:
            options.problems.append(f"initializationOptions.language.{option} must be a "
                                    "number of milliseconds >= 0")
            continue
        setattr(options.language, attribute, value / 1000.0)
    return options
