import assert from "node:assert/strict";
import { test } from "node:test";
import { CellRun, runInOrder, type Execution } from "../../src/cellRun";

/** An execution that records what it was told, as the editor would show it. */
class FakeExecution implements Execution {
  executionOrder: number | undefined;
  readonly calls: string[] = [];
  startTime: number | undefined;
  endTime: number | undefined;
  success: boolean | undefined;

  start(startTime?: number): void {
    this.startTime = startTime;
    this.calls.push("start");
  }

  end(success: boolean | undefined, endTime?: number): void {
    this.success = success;
    this.endTime = endTime;
    this.calls.push("end");
  }

  clearOutput(): PromiseLike<void> {
    this.calls.push("clear");
    return Promise.resolve();
  }
}

function run(onStart?: () => void): CellRun<FakeExecution> {
  return new CellRun(new FakeExecution(), onStart);
}

test("a run starts once, clearing its old outputs, then ends once with a time", () => {
  let started = 0;
  const cell = run(() => (started += 1));
  cell.begin();
  cell.begin();
  assert.equal(cell.state, "running");
  assert.equal(started, 1);
  assert.equal(typeof cell.execution.startTime, "number");
  cell.finish(true, 1234);
  cell.finish(false);
  assert.equal(cell.ended, true);
  assert.deepEqual(cell.execution.calls, ["start", "clear", "end"]);
  assert.equal(cell.execution.success, true);
  assert.equal(cell.execution.endTime, 1234);
});

test("a run that never started ends without a time and cannot start after", () => {
  const cell = run();
  cell.finish(undefined, 1234);
  cell.begin();
  assert.deepEqual(cell.execution.calls, ["end"]);
  assert.equal(cell.execution.endTime, undefined);
});

test("an aborted run never shows as started; the others show count and end time", () => {
  const aborted = run();
  aborted.settle({ status: "aborted", executionCount: null, startedAt: null, endedAt: null });
  assert.deepEqual(aborted.execution.calls, ["end"]);
  assert.equal(aborted.execution.success, undefined);

  const failed = run();
  failed.settle({ status: "error", executionCount: 3, startedAt: 1, endedAt: 2 });
  assert.deepEqual(failed.execution.calls, ["start", "clear", "end"]);
  assert.equal(failed.execution.executionOrder, 3);
  assert.equal(failed.execution.success, false);
  assert.equal(failed.execution.endTime, 2);

  const ok = run();
  ok.begin();
  ok.settle({ status: "ok", executionCount: null, startedAt: 1, endedAt: null });
  assert.equal(ok.execution.executionOrder, undefined);
  assert.equal(ok.execution.success, true);
  assert.equal(typeof ok.execution.endTime, "number");
});

test("cancelling interrupts the kernel only for a running cell", () => {
  let interrupts = 0;
  const queued = run();
  queued.cancel(() => (interrupts += 1));
  assert.equal(interrupts, 0);
  assert.equal(queued.ended, true);

  const running = run();
  running.begin();
  running.cancel(() => (interrupts += 1));
  assert.equal(interrupts, 1);
  assert.equal(running.execution.success, undefined);

  running.cancel(() => (interrupts += 1));
  assert.equal(interrupts, 1, "an ended run is not interrupted again");
});

test("runs are all sent at once and each starts when the one before it is done", async () => {
  const runs = [run(), run(), run()];
  const replies = runs.map(() => {
    let resolve = (): void => undefined;
    const promise = new Promise<void>((done) => (resolve = done));
    return { promise, resolve: () => resolve() };
  });
  const sent: number[] = [];
  const states = () => runs.map((cell) => cell.state);
  const all = runInOrder(runs, (cell) => {
    sent.push(runs.indexOf(cell));
    return replies[runs.indexOf(cell)].promise;
  });
  assert.deepEqual(sent, [0, 1, 2]);
  assert.deepEqual(states(), ["running", "queued", "queued"]);

  runs[1].finish(undefined); // cancelled while queued: it never starts
  runs[0].finish(true);
  replies[0].resolve();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(states(), ["done", "done", "queued"]);

  replies[1].resolve();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(states(), ["done", "done", "running"]);

  runs[2].finish(false);
  replies[2].resolve();
  await all;
  assert.deepEqual(runs[1].execution.calls, ["end"]);
});

test("no cells, nothing to run", async () => {
  await runInOrder([], () => assert.fail("nothing is sent"));
});
