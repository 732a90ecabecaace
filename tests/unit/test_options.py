"""initializationOptions: one tree, every bad value named, defaults kept for those."""

from __future__ import annotations

from bridge.options import KernelSettings, LanguageSettings, read_options


def test_no_options_are_the_defaults() -> None:
    options = read_options(None)
    assert options.kernels == KernelSettings() and options.language == LanguageSettings()
    assert options.problems == []


def test_every_member_is_read() -> None:
    options = read_options({"warmPool": True, "kernelStartTimeout": 7, "language": {
        "completionDeadlineMs": 120, "jediGraceMs": 0, "hoverDeadlineMs": 900}})
    assert options.kernels == KernelSettings(warm_pool=True, start_timeout=7.0)
    assert options.language == LanguageSettings(kernel_deadline=0.12, jedi_grace=0.0,
                                                 hover_deadline=0.9)
    assert options.problems == []


def test_each_bad_value_is_named_and_keeps_its_default() -> None:
    options = read_options({"kernelStartTimeout": -1, "language": {
        "completionDeadlineMs": "fast", "jediGraceMs": True, "hoverDeadlineMs": 300}})
    assert options.kernels.start_timeout is None
    assert options.language == LanguageSettings(hover_deadline=0.3)
    assert options.problems == [
        "initializationOptions.kernelStartTimeout must be a number of seconds > 0",
        "initializationOptions.language.completionDeadlineMs must be a number of "
        "milliseconds >= 0",
        "initializationOptions.language.jediGraceMs must be a number of milliseconds >= 0",
    ]


def test_a_tree_that_is_not_an_object_is_named() -> None:
    assert read_options([1]).problems == ["initializationOptions must be an object"]
    assert read_options({"language": 3}).problems == [
        "initializationOptions.language must be an object"]
