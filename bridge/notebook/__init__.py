"""The .ipynb file format: lossless reading and writing, validation, upgrade from v3."""
