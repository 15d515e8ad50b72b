"""Benchmarks of the hub: run each as ``python -m bench.<name>`` from the repository root."""
