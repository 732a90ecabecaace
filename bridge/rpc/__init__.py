"""The wire: LSP framing on pipes, the JSON-RPC transport, and the protocol object."""
