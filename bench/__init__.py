"""The performance bench: `python3 bench/run.py` (see README, "Benchmark")."""
