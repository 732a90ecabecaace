// A cell run as the editor shows it: queued, then running, then done, each step once.
// Pure: no `vscode` import (a vscode.NotebookCellExecution is an Execution).

import type { ExecuteResult } from "./protocol";

/** What the editor's execution of one cell is told. */
export interface Execution {
  executionOrder: number | undefined;
  start(startTime?: number): void;
  end(success: boolean | undefined, endTime?: number): void;
  clearOutput(): PromiseLike<void>;
}

export type RunState = "queued" | "running" | "done";

export class CellRun<E extends Execution = Execution> {
  state: RunState = "queued";

  /** `onStart` is called when the run starts, after its old outputs were cleared. */
  constructor(
    readonly execution: E,
    private readonly onStart: () => void = () => undefined,
  ) {}

  get ended(): boolean {
    return this.state === "done";
  }

  /** Shown as running from now (or since `startTime`, a run followed after a reload);
   * its old outputs go when it starts. */
  begin(startTime?: number): void {
    if (this.state !== "queued") {
      return;
    }
    this.state = "running";
    this.execution.start(startTime ?? Date.now());
    void this.execution.clearOutput();
    this.onStart();
  }

  /** A run that never started ends without a time, so the editor shows no duration. */
  finish(success: boolean | undefined, endTime?: number): void {
    if (this.state === "done") {
      return;
    }
    const started = this.state === "running";
    this.state = "done";
    this.execution.end(success, started ? (endTime ?? Date.now()) : undefined);
  }

  /** The bridge's `kernel/execute` answer: an aborted run never ran, so it never shows as
   * started; the others show the kernel's execution count and end time. */
  settle(result: ExecuteResult): void {
    if (result.status === "aborted") {
      this.finish(undefined);
      return;
    }
    this.begin();
    this.execution.executionOrder = result.executionCount ?? undefined;
    this.finish(result.status === "ok", result.endedAt ?? undefined);
  }

  /** The user cancelled: only a running cell needs the kernel interrupted. */
  cancel(interrupt: () => void): void {
    if (this.state === "running") {
      interrupt();
    }
    this.finish(undefined);
  }
}

/** The bridge queues executions per kernel in order (and aborts those behind an error), so
 * every run is sent at once; each is shown as started when the one before it is done. */
export async function runInOrder<R extends CellRun>(runs: R[], send: (run: R) => Promise<void>): Promise<void> {
  const done = runs.map(send);
  runs[0]?.begin();
  for (let index = 0; index < runs.length; index++) {
    await done[index];
    runs[index + 1]?.begin();
  }
}
