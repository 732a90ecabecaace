"""nbbridge: Jupyter kernels and the .ipynb format behind an LSP-framed JSON-RPC bridge."""

import sys

__version__ = "0.1.0"

# jsonschema imports rfc3987_syntax when it is installed (jupyter_server pulls it in),
# and that module compiles a grammar at import, for seconds. nbformat's schemas use no
# IRI formats, so the bridge does without it rather than pay that on every start.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
