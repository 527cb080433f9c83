"""Jobs: a notebook run by papermill on demand, as a sweep, or (later) on a schedule.

``spec`` reads and checks a notebook's parameters, ``store`` keeps jobs, executions and
sweeps, ``engine`` runs one attempt of an execution in a kernel, ``kernels`` keeps
kernels started ahead of need, ``executors`` and ``service`` claim queued executions and
hand them to warm worker processes, and ``api`` is the one entry point every face calls.
"""
