"""nbbridge: Jupyter kernels and the .ipynb format behind an LSP-framed JSON-RPC bridge."""

__version__ = "0.1.0"
