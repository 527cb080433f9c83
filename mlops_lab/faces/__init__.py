"""The thin faces over the core: ``server`` (REST for the sidebar), ``magics``
(``%mlops``) and ``cli`` (``mlops-lab``). Each parses input, calls the core and renders
the result or the :class:`~mlops_lab.core.errors.MlopsError`; none holds a feature."""
