"""Kernels on a Jupyter Server, Kernel Gateway or Enterprise Gateway: the servers the user
configured (servers), their kernels' life over REST (life) and channels over the kernel
websocket (websocket_channels, wire)."""
