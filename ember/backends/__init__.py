"""Array backends: NumPy for cpu, CuPy for cuda (imported lazily, on first cuda use).

``interop`` holds DLPack import/export (``from_dlpack``, ``to_dlpack``).
"""
