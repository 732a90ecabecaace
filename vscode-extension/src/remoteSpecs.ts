// A Jupyter Server's kernelspecs as kernels in the picker, beside the local ones: each one
// a spec named `remote:<server url>|<kernelspec>`, so the name stays the same when the
// bridge restarts and gives the server another id. Pure: no `vscode`.

import type { JupyterServerInfo, KernelSpec, ServerKernelsResult } from "./protocol";

const PREFIX = "remote:";

export interface RemoteKernel {
  serverUrl: string;
  serverId: string;
  serverName: string;
  kernelName: string;
}

/** A picker entry for each of the server's kernelspecs. */
export function remoteSpecs(server: JupyterServerInfo, kernels: ServerKernelsResult): KernelSpec[] {
  return kernels.specs.map((spec) => {
    const remote: RemoteKernel = {
      serverUrl: server.url,
      serverId: server.serverId,
      serverName: server.name,
      kernelName: spec.name,
    };
    return {
      name: `${PREFIX}${server.url}|${spec.name}`,
      displayName: spec.displayName,
      language: spec.language,
      argv0: server.url,
      interruptMode: spec.interruptMode,
      metadata: { remote },
    };
  });
}

/** The server kernel a spec stands for, if it stands for one. */
export function remoteOf(spec: KernelSpec): RemoteKernel | undefined {
  if (!spec.name.startsWith(PREFIX)) {
    return undefined;
  }
  const remote = spec.metadata?.remote;
  return typeof remote === "object" && remote !== null ? (remote as RemoteKernel) : undefined;
}

/** A server as the user typed it: a URL, with the token taken out of a `?token=`. */
export function parseServerInput(input: string): { url: string; token?: string } | string {
  let parsed: URL;
  try {
    parsed = new URL(input.trim());
  } catch {
    return "not a URL: give http://host:port/, https://… or http+unix://%2Fpath%2Fto.sock/";
  }
  if (!["http:", "https:", "http+unix:"].includes(parsed.protocol)) {
    return `${parsed.protocol} is not a Jupyter Server URL: give http, https or http+unix`;
  }
  const token = parsed.searchParams.get("token") ?? undefined;
  parsed.search = "";
  parsed.hash = "";
  return token === undefined ? { url: parsed.toString() } : { url: parsed.toString(), token };
}
