import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { ErrorCode, METHODS, NOTIFICATIONS, SERVER_REQUESTS, type Method } from "../../src/protocol";

// Three levels below the repository both as the source (test/unit) and as the bundle (out/unit).
const doc = readFileSync(path.join(__dirname, "..", "..", "..", "docs", "protocol.md"), "utf8");

/** The methods of the headings `### \`a\`, \`b\` (requests)` etc., by the kind in parentheses. */
function documented(): Map<string, string[]> {
  const kinds = new Map<string, string[]>();
  for (const line of doc.split("\n")) {
    const heading = /^### (.+) \((requests?|notification)(, bridge -> client)?\)$/.exec(line);
    if (heading === null) {
      continue;
    }
    const kind = heading[2].replace(/s$/, "") + (heading[3] === undefined ? "" : " from the bridge");
    const names = [...heading[1].matchAll(/`([^`]+)`/g)].map((match) => match[1]);
    kinds.set(kind, [...(kinds.get(kind) ?? []), ...names]);
  }
  return kinds;
}

const sorted = (names: readonly string[]): string[] => [...names].sort();

test("the requests the client sends are the ones docs/protocol.md heads as requests", () => {
  assert.deepEqual(sorted(METHODS), sorted(documented().get("request") ?? []));
});

test("the bridge's notifications are the ones docs/protocol.md heads as notifications", () => {
  assert.deepEqual(sorted(NOTIFICATIONS), sorted(documented().get("notification from the bridge") ?? []));
});

test("the bridge's requests are the ones docs/protocol.md heads as requests from the bridge", () => {
  assert.deepEqual(sorted(SERVER_REQUESTS), sorted(documented().get("request from the bridge") ?? []));
  assert.deepEqual([...documented().keys()].sort(), [
    "notification from the bridge",
    "request",
    "request from the bridge",
  ]);
});

test("every request has its params and result types, and only those", () => {
  type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
  const same: Exactly<Method, (typeof METHODS)[number]> = true;
  assert.ok(same);
});

test("the error codes are the ones in docs/protocol.md's table", () => {
  const codes: number[] = [];
  for (const line of doc.split("\n")) {
    const row = /^\| (-32\d\d\d(?: \/ -32\d\d\d)*) \|/.exec(line);
    if (row !== null) {
      codes.push(...row[1].split(" / ").map(Number));
    }
  }
  assert.ok(codes.length > 0, "docs/protocol.md has a table of error codes");
  assert.deepEqual(sorted(Object.values(ErrorCode).map(String)), sorted(codes.map(String)));
  assert.equal(new Set(Object.values(ErrorCode)).size, Object.values(ErrorCode).length);
});
