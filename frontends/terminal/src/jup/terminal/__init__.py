"""jup's terminal frontend: an IPython-like shell (`jup run terminal`) on any Jupyter kernel.

Kept empty of imports so that `jup run terminal -c CODE` loads only what it uses.
"""

__version__ = "0.1.0"
