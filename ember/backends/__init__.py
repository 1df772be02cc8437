"""Array backends: NumPy for cpu, CuPy for cuda (imported lazily, on first cuda use)."""
