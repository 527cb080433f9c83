"""Who made a call: the user's code, or a library's.

A fit counts as the user's when the first frame outside mlops_lab that called it is
neither an installed package (site-packages) nor the standard library: a notebook cell,
a script, the user's own modules. That single rule makes a grid search one fit and a
cross-validation none, with no list of scikit-learn's meta-estimators to keep. Paths are
resolved once per file name and cached: the check runs for every fit, nested ones too.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
from types import FrameType
from typing import Any

_NAME_SEARCH_DEPTH = 8


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.update(getattr(site, "getsitepackages", list)())
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if user_site:
        roots.add(user_site)
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


_LIBRARY_ROOTS = _library_roots()
_OUR_ROOT = os.path.realpath(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))) + os.sep
_real_paths: dict[str, bool] = {}


def _is_library(filename: str) -> bool:
    """Installed code (site-packages, the standard library, frozen modules), cached."""
    known = _real_paths.get(filename)
    if known is None:
        if filename.startswith("<"):
            known = filename.startswith("<frozen")  # "<ipython-input-..>", "<string>": user
        else:
            real = os.path.realpath(filename)
            known = real.startswith(_LIBRARY_ROOTS)
        _real_paths[filename] = known
    return known


_our_paths: dict[str, bool] = {}


def _is_ours(filename: str) -> bool:
    known = _our_paths.get(filename)
    if known is None:
        known = _our_paths[filename] = os.path.realpath(filename).startswith(_OUR_ROOT)
    return known


def user_caller(depth: int = 2) -> FrameType | None:
    """The frame of the code that made this call, if it is the user's; else None.

    Our own frames are skipped; the first other frame decides. ``depth`` starts past
    this function and the wrapper that calls it.
    """
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:
        return None
    while frame is not None and _is_ours(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None or _is_library(frame.f_code.co_filename):
        return None
    return frame


def name_in(frame: FrameType | None, value: Any) -> str | None:
    """The variable name bound to ``value`` in the user's code, searched outward."""
    if value is None:
        return None
    depth = 0
    while frame is not None and depth < _NAME_SEARCH_DEPTH:
        for namespace in (frame.f_locals, frame.f_globals):
            for name, bound in namespace.items():
                if bound is value and not name.startswith("_"):
                    return name
        frame = frame.f_back
        depth += 1
    return None
