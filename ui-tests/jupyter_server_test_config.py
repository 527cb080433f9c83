"""Jupyter Server settings for the Galata tests: a throwaway root, no token, local only.

Never use this configuration outside tests: it removes the server's protections.
"""

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # type: ignore[name-defined]  # noqa: F821

configure_jupyter_server(c)

# The test machines run as root; listen on the loopback interface only.
c.ServerApp.allow_root = True
c.ServerApp.ip = "127.0.0.1"

# Keep the tests independent of any mlops-lab settings in the caller's environment.
c.ServerApp.log_level = "INFO"
