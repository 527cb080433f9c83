"""Notebook run tracking: the kernel's tracking session and the lineage it records."""
