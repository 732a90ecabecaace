"""The kernel host: kernels that outlive the editor (docs/protocol.md, "Durable kernels")."""
