"""An in-process IPython with ``%mlops`` loaded, for the magic's tests that need no kernel."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from mlops_lab.faces.magics import load_ipython_extension, unload_ipython_extension


@contextlib.contextmanager
def plain_shell() -> Iterator[InteractiveShell]:
    """A plain IPython (no kernel, so no widgets), history in memory, ``%mlops`` loaded;
    unloaded and cleared after, so the next test gets a new one."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ipython = InteractiveShell.instance(config=config)
    load_ipython_extension(ipython)
    try:
        yield ipython
    finally:
        unload_ipython_extension(ipython)
        InteractiveShell.clear_instance()


def mlops(
    shell: InteractiveShell, line: str, capsys: pytest.CaptureFixture[str]
) -> tuple[str, str]:
    """Run ``%mlops <line>``; what it printed on stdout and on stderr."""
    shell.run_line_magic("mlops", line)
    captured = capsys.readouterr()
    return captured.out, captured.err
