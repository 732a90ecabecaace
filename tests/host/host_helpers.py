"""Bridges whose kernels live in a kernel host of the test's own."""

from __future__ import annotations

from pathlib import Path

from bridge.kernels.host.place import HostPlace, host_pid

from bridge_client import BridgeClient


class Hosted:
    """Starts bridges on one kernel host (`NBBRIDGE_RUNTIME_DIR` = `folder`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bridges: list[BridgeClient] = []
        self.extra_env: dict[str, str] = {}

    @property
    def env(self) -> dict[str, str]:
        return {"NBBRIDGE_KERNELS": "durable", "NBBRIDGE_RUNTIME_DIR": str(self.folder),
                **self.extra_env}

    async def bridge(self, **options: object) -> BridgeClient:
        client = await BridgeClient.start(env=self.env)
        await client.initialize(options if options else None)
        self.bridges.append(client)
        return client

    def host_pid(self) -> int | None:
        return host_pid(HostPlace(self.folder))
