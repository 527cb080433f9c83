"""The plain-Python core: every feature lives here once, for every face to call.

Nothing under ``mlops_lab.core`` imports IPython, ipykernel, ipywidgets, tornado,
jupyter_server or click, and nothing imports ``mlops_lab.faces`` (import-linter checks
both for the whole package, so a new module is covered without editing a list).
"""
