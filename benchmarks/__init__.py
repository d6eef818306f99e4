"""Benchmarks of localise: throughput, cost and memory of the engine, the library pipeline and the
Prefect batch flow on the same inputs. Run with ``make bench`` (``python -m benchmarks.run``)."""
