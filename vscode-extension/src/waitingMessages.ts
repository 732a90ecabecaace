// Messages of runs this window cannot show yet: a kernel's attach is under way (its
// journal not yet on the cells), or the run's cell is not known. Kept, bounded, until the
// run is followed or the kernel's attach is shown.

import type { ExecutionEndedParams, OutputParams } from "./protocol";

/** Runs kept for at most: older ones are let go (a notebook not open in this window). */
const MAX_RUNS = 64;

export class WaitingMessages {
  private readonly outputs = new Map<string, OutputParams[]>();
  private readonly ends = new Map<string, ExecutionEndedParams>();
  private readonly held = new Set<string>();

  /** The kernel's messages wait until `release`, even for runs that could be shown. */
  hold(kernelId: string): void {
    this.held.add(kernelId);
  }

  isHeld(kernelId: string): boolean {
    return this.held.has(kernelId);
  }

  keepOutput(params: OutputParams): void {
    const kept = this.outputs.get(params.executionId) ?? [];
    kept.push(params);
    this.outputs.set(params.executionId, kept);
    trim(this.outputs);
  }

  keepEnd(params: ExecutionEndedParams): void {
    this.ends.set(params.executionId, params);
    trim(this.ends);
  }

  /** The run's kept outputs and end (the run is followed now), forgotten here. */
  take(executionId: string): { outputs: OutputParams[]; end: ExecutionEndedParams | undefined } {
    const taken = { outputs: this.outputs.get(executionId) ?? [], end: this.ends.get(executionId) };
    this.forget(executionId);
    return taken;
  }

  forget(executionId: string): void {
    this.outputs.delete(executionId);
    this.ends.delete(executionId);
  }

  /** The kernel's messages wait no more: what was kept of its runs, forgotten here. */
  release(kernelId: string): { outputs: OutputParams[]; ends: ExecutionEndedParams[] } {
    this.held.delete(kernelId);
    const outputs: OutputParams[] = [];
    for (const [executionId, kept] of [...this.outputs]) {
      if (kept[0]?.kernelId === kernelId) {
        this.outputs.delete(executionId);
        outputs.push(...kept);
      }
    }
    const ends = [...this.ends.values()].filter((end) => end.kernelId === kernelId);
    ends.forEach((end) => this.ends.delete(end.executionId));
    return { outputs, ends };
  }

  clear(): void {
    this.outputs.clear();
    this.ends.clear();
  }
}

function trim<T>(runs: Map<string, T>): void {
  while (runs.size > MAX_RUNS) {
    runs.delete(runs.keys().next().value as string);
  }
}
