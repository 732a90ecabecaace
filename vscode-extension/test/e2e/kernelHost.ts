// The kernel host of an editor under test: it outlives the bridge by design, so each
// editor gets a folder of its own for it, and the test ends it (and so its kernels).

import * as fs from "node:fs";
import * as path from "node:path";

/** The kernel host's pid file in its folder (bridge/kernels/host/place.py). */
const HOST_PID_FILE = "kernel-host.pid";

/** The pid of the kernel host of that folder, if it runs. */
export function livingHost(runtimeDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(runtimeDir, HOST_PID_FILE), "utf8").trim());
    return pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Ends the kernel host (and so its kernels): no kernel may outlive a test. */
export async function stopHost(runtimeDir: string): Promise<void> {
  const pid = livingHost(runtimeDir);
  if (pid === undefined) {
    return;
  }
  signal(pid, "SIGTERM");
  for (let waited = 0; waited < 10_000 && alive(pid); waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  signal(pid, "SIGKILL");
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
