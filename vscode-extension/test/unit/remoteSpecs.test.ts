import assert from "node:assert/strict";
import { test } from "node:test";
import { groupOf } from "../../src/environments";
import type { JupyterServerInfo, ServerKernelsResult } from "../../src/protocol";
import { parseServerInput, remoteOf, remoteSpecs } from "../../src/remoteSpecs";

const server: JupyterServerInfo = {
  serverId: "server-2",
  url: "http://127.0.0.1:8888/lab/",
  name: "gpu box",
  version: "2.21.1",
  hasSessions: true,
  caFile: null,
};
const kernels: ServerKernelsResult = {
  default: "python3",
  specs: [
    { name: "python3", displayName: "Python 3 (ipykernel)", language: "python", interruptMode: "signal" },
    { name: "ir", displayName: "R", language: "R", interruptMode: "signal" },
  ],
  running: [],
};

test("each of a server's kernelspecs is a kernel named by the server's URL, not its id", () => {
  const specs = remoteSpecs(server, kernels);
  assert.deepEqual(specs.map((spec) => spec.name), [
    "remote:http://127.0.0.1:8888/lab/|python3",
    "remote:http://127.0.0.1:8888/lab/|ir",
  ]);
  assert.deepEqual(remoteOf(specs[1]), {
    serverUrl: server.url,
    serverId: "server-2",
    serverName: "gpu box",
    kernelName: "ir",
  });
  assert.equal(groupOf(specs[0]), "Jupyter Server: gpu box");
  assert.equal(remoteOf({ name: "python3", displayName: "Python 3", language: "python" }), undefined);
});

test("a pasted URL gives up its token, and bad input says what is wrong", () => {
  assert.deepEqual(parseServerInput(" http://127.0.0.1:8888/lab?token=abc "), {
    url: "http://127.0.0.1:8888/lab",
    token: "abc",
  });
  assert.deepEqual(parseServerInput("https://hub.example.org/user/ada/"), { url: "https://hub.example.org/user/ada/" });
  assert.match(String(parseServerInput("localhost:8888")), /Jupyter Server URL|not a URL/);
  assert.match(String(parseServerInput("ftp://x/")), /not a Jupyter Server URL/);
});
