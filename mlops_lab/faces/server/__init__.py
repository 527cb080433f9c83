"""The Jupyter Server face: REST handlers under ``/mlops-lab/api/`` over the core."""
