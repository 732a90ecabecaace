// The bridge's custom JSON-RPC contract as docs/protocol.md states it: method names, their
// params and results, and the error codes. Pure: no `vscode` import. Names follow the
// bridge's own bridge/rpc/contract.py and bridge/errors.py.

import type { BridgeCell, BridgeNotebook } from "./notebookData";
import type { NbOutput } from "./outputs";

// Requests the client sends.
export const NOTEBOOK_DESERIALIZE = "notebook/deserialize";
export const NOTEBOOK_SERIALIZE = "notebook/serialize";
export const NOTEBOOK_EXPORT = "notebook/export";
export const NOTEBOOK_CHECKPOINT = "notebook/checkpoint";
export const KERNEL_SPECS = "kernel/specs";
export const KERNEL_START = "kernel/start";
export const KERNEL_EXECUTE = "kernel/execute";
export const KERNEL_INTERRUPT = "kernel/interrupt";
export const KERNEL_RESTART = "kernel/restart";
export const KERNEL_SHUTDOWN = "kernel/shutdown";
export const KERNEL_ENVIRONMENTS = "kernel/environments";
export const KERNEL_INSTALL_IPYKERNEL = "kernel/installIpykernel";
export const KERNEL_SERVERS_ADD = "kernel/servers/add";
export const KERNEL_SERVERS_LIST = "kernel/servers/list";
export const KERNEL_SERVERS_REMOVE = "kernel/servers/remove";
export const KERNEL_SERVERS_KERNELS = "kernel/servers/kernels";
export const KERNEL_SEND_COMM = "kernel/sendComm";
export const KERNEL_COMM_INFO = "kernel/commInfo";
export const KERNEL_WIDGET_STATE = "kernel/widgetState";
export const KERNEL_ATTACH = "kernel/attach";
export const KERNEL_LIST = "kernel/list";

// Notifications the bridge sends.
export const KERNEL_OUTPUT = "kernel/output";
export const KERNEL_STATUS = "kernel/status";
export const SCRIPT_CELL_RESULT = "script/cellResult";
export const KERNEL_ENVIRONMENTS_CHANGED = "kernel/environmentsChanged";
export const KERNEL_COMM = "kernel/comm";
export const KERNEL_EXECUTION_ENDED = "kernel/executionEnded";

// Requests the bridge sends.
export const KERNEL_INPUT = "kernel/input";

/** Every custom request the bridge answers (its initialize result's `methods`). */
export const METHODS = [
  NOTEBOOK_DESERIALIZE,
  NOTEBOOK_SERIALIZE,
  NOTEBOOK_EXPORT,
  NOTEBOOK_CHECKPOINT,
  KERNEL_SPECS,
  KERNEL_START,
  KERNEL_EXECUTE,
  KERNEL_INTERRUPT,
  KERNEL_RESTART,
  KERNEL_SHUTDOWN,
  KERNEL_ENVIRONMENTS,
  KERNEL_INSTALL_IPYKERNEL,
  KERNEL_SERVERS_ADD,
  KERNEL_SERVERS_LIST,
  KERNEL_SERVERS_REMOVE,
  KERNEL_SERVERS_KERNELS,
  KERNEL_SEND_COMM,
  KERNEL_COMM_INFO,
  KERNEL_WIDGET_STATE,
  KERNEL_ATTACH,
  KERNEL_LIST,
] as const;
/** Custom notifications the bridge sends (`notifications`). */
export const NOTIFICATIONS = [
  KERNEL_OUTPUT,
  KERNEL_STATUS,
  SCRIPT_CELL_RESULT,
  KERNEL_ENVIRONMENTS_CHANGED,
  KERNEL_COMM,
  KERNEL_EXECUTION_ENDED,
] as const;
/** Custom requests the bridge sends (`serverRequests`). */
export const SERVER_REQUESTS = [KERNEL_INPUT] as const;

/** JSON-RPC error codes: the standard ones the bridge uses, then its own (-320xx). */
export const ErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  NOT_JSON: -32001,
  NOT_A_NOTEBOOK: -32002,
  TOO_LARGE: -32003,
  OUTPUTS_UNKNOWN: -32004,
  UNKNOWN_KERNEL: -32010,
  KERNEL_DEAD: -32011,
  KERNEL_START_FAILED: -32012,
  FILE_ERROR: -32020,
  EXPORT_FAILED: -32021,
  NO_CHECKPOINT: -32022,
  SERVER_UNREACHABLE: -32030,
  SERVER_REFUSED: -32031,
} as const;

// Notebook file format.

export type DeserializeParams = { content: string } | { contentBase64: string };

export interface DeserializeResult {
  notebook: BridgeNotebook;
  warnings?: string[];
}

/** A `$/progress` part of a large `notebook/deserialize`: cells, in order. */
export interface DeserializePart {
  cells: BridgeCell[];
}

export type Encoding = "text" | "base64";

export interface SerializeParams {
  notebook: BridgeNotebook;
  encoding?: Encoding;
}

/** `content`, or with `"encoding": "base64"` `contentBase64`; a `$/progress` part likewise. */
export type SerializeResult = Partial<Record<"content" | "contentBase64", string>>;

// Kernels.

export interface KernelSpec {
  name: string;
  displayName: string;
  language: string;
  argv0?: string;
  resourceDir?: string;
  interruptMode?: "signal" | "message";
  transport?: "ipc" | "tcp";
  bridgeEnvironment?: boolean;
  metadata?: Record<string, unknown>;
}

/** A Python environment found on the machine (`kernel/environments`). */
export interface PythonEnvironment {
  python: string;
  name: string;
  kind: string;
  group: "workspace" | "global";
  prefix: string;
  version: string;
  implementation: string;
  ipykernel: boolean;
  bridgeEnvironment: boolean;
}

export interface EnvironmentsResult {
  environments: PythonEnvironment[];
}

export interface EnvironmentParams {
  environment: string;
}

export interface SpecsResult {
  specs: KernelSpec[];
  default: string;
}

export type KernelState =
  | "starting"
  | "idle"
  | "busy"
  | "restarting"
  | "dead"
  /** the link to a server's kernel dropped, or is being made again */
  | "disconnected"
  | "reconnecting";

export interface StartParams {
  kernelName?: string;
  /** a Python interpreter's path, instead of `kernelName` */
  environment?: string;
  notebookUri?: string;
  cwd?: string;
  /** a Jupyter Server's kernel (`kernel/servers/add`), with `kernelName` or `remoteKernelId` */
  serverId?: string;
  remoteKernelId?: string;
}

/** `kernel/servers/add`'s params. */
export interface AddServerParams {
  url: string;
  token?: string;
  caFile?: string;
  name?: string;
}

/** A Jupyter Server the bridge may use (`kernel/servers/add`, `kernel/servers/list`). */
export interface JupyterServerInfo {
  serverId: string;
  url: string;
  name: string;
  version: string;
  hasSessions: boolean;
  caFile: string | null;
}

/** `kernel/servers/kernels`'s result. */
export interface ServerKernelsResult {
  default: string | null;
  specs: { name: string; displayName: string; language: string; interruptMode: "signal" | "message" }[];
  running: {
    id: string;
    name: string;
    executionState: string | null;
    lastActivity: string | null;
    connections: number | null;
    path: string | null;
  }[];
}

/** The `kernel/start` and `kernel/restart` result. */
export interface StartResult {
  kernelId: string;
  specName: string;
  notebookUri: string | null;
  languageInfo: Record<string, unknown>;
  implementation: string | null;
  protocolVersion: string | null;
  banner: string;
  supportedFeatures: string[];
  state: KernelState;
  pid: number | null;
  connectionFile: string | null;
  transport: "ipc" | "tcp" | "websocket";
  serverId?: string;
  serverUrl?: string;
  remoteKernelId?: string;
  interruptMode: "signal" | "message";
  /** a kernel of the kernel host: it outlives the bridge and the editor */
  durable?: boolean;
  hostPid?: number;
}

export interface KernelParams {
  kernelId: string;
}

export interface ExecuteParams {
  kernelId: string;
  code: string;
  executionId: string;
  stopOnError?: boolean;
  /** the nbformat cell id, journalled by the kernel host with the run */
  cellId?: string;
}

export interface ExecuteResult {
  status: "ok" | "error" | "aborted";
  executionCount: number | null;
  startedAt: number | null;
  endedAt: number | null;
}

export type OutputOp =
  | { op: "append"; output: NbOutput; displayId?: string }
  | { op: "appendText"; name: string; text: string }
  | { op: "replace"; displayId: string; output: NbOutput }
  | { op: "clear"; wait?: boolean };

export interface OutputParams {
  kernelId: string;
  executionId: string;
  ops: OutputOp[];
  /** the kernel's number of the last message folded into these ops */
  seq?: number;
  /** on the runs the bridge follows for another client (or this one before a reload) */
  cellId?: string;
}

// Durable kernels: the kernel host's journal, attach and list.

/** One run as the kernel host's journal holds it (`kernel/attach`). */
export interface JournalExecution {
  executionId: string | null;
  cellId: string | null;
  msgId: string;
  seq: number;
  status: "running" | "ok" | "error" | "aborted";
  executionCount: number | null;
  startedAt: number | null;
  endedAt: number | null;
  outputs: NbOutput[];
  pendingInput: { prompt: string; password: boolean } | null;
  droppedBytes: number;
}

export interface AttachParams {
  notebookUri: string;
  afterSeq?: number;
}

export interface AttachResult {
  kernel: StartResult | null;
  executions: JournalExecution[];
  seq: number | null;
  /** the notebook's kernel died while nobody was attached */
  ended?: { kernelId: string; reason: string | null; specName: string | null } | null;
}

export interface ExecutionEndedParams {
  kernelId: string;
  executionId: string;
  status: ExecuteResult["status"];
  executionCount: number | null;
  startedAt: number | null;
  endedAt: number | null;
  seq: number;
  cellId?: string;
}

/** A kernel as `kernel/list` gives it. */
export interface ListedKernel {
  kernelId: string;
  specName: string;
  notebookUri: string | null;
  state: KernelState;
  pid: number | null;
  memory?: number | null;
  lastActivity?: number | null;
  startedAt?: number | null;
  clients?: number;
  busy?: boolean;
  here: boolean;
}

export interface StatusParams {
  kernelId: string;
  state: KernelState;
  reason?: string;
}

export interface InputParams {
  kernelId: string;
  executionId: string;
  prompt: string;
  password: boolean;
}

export interface InputResult {
  value: string;
}

// Comms (ipywidgets, anywidget, any comm target).

export type CommMsgType = "comm_open" | "comm_msg" | "comm_close";

/** A comm message's content as Jupyter has it: `comm_id`, `data`, `target_name`... */
export type CommContent = { comm_id: string; data?: Record<string, unknown> } & Record<string, unknown>;

export interface CommParams {
  kernelId: string;
  executionId: string | null;
  msgType: CommMsgType;
  /** the request it answers: for a `kernel/sendComm`, the client's own `msgId` */
  parentMsgId: string | null;
  content: CommContent;
  metadata: Record<string, unknown>;
  /** base64 */
  buffers: string[];
}

export interface SendCommParams {
  kernelId: string;
  msgType: CommMsgType;
  content: CommContent;
  buffers?: string[];
  executionId?: string;
  /** the client's id for this message: replies name it as their parentMsgId */
  msgId?: string;
}

export interface CommInfoParams {
  kernelId: string;
  targetName?: string;
}

export interface CommInfoResult {
  status: string;
  comms: Record<string, { target_name: string }>;
}

/** application/vnd.jupyter.widget-state+json, as metadata.widgets holds it. */
export interface WidgetState {
  version_major: number;
  version_minor: number;
  state: Record<string, unknown>;
}

export interface ScriptCellResultParams {
  uri: string;
  cell: { index: number; startLine: number; endLine: number; title: string };
  kernelId: string;
  executionId: string;
  status: ExecuteResult["status"];
  executionCount: number | null;
  outputs: NbOutput[];
  text: string;
}

// Export and checkpoints.

export interface ExportParams {
  uri: string;
  format: string;
  outputUri?: string;
  content?: string;
}

export interface ExportResult {
  path: string;
  uri: string;
  format: string;
  bytes: number;
  files: string[];
}

export type CheckpointAction = "create" | "list" | "restore" | "delete";
export type CheckpointId = "checkpoint" | "before-revert";

export interface CheckpointParams {
  uri: string;
  action: CheckpointAction;
  id?: CheckpointId;
}

export interface Checkpoint {
  id: CheckpointId;
  path: string;
  lastModified: string;
}

/** The `notebook/checkpoint` result of each action. */
export interface CheckpointResults {
  create: { checkpoint: Checkpoint };
  list: { checkpoints: Checkpoint[] };
  restore: { restored: Checkpoint; content: string; kept?: Checkpoint };
  delete: { checkpoints: Checkpoint[] };
}

/** Each request the client sends: its params, its result and, for those whose result
 * may come in `$/progress` parts, the part. */
export interface Requests {
  [NOTEBOOK_DESERIALIZE]: { params: DeserializeParams; result: DeserializeResult; part: DeserializePart };
  [NOTEBOOK_SERIALIZE]: { params: SerializeParams; result: SerializeResult; part: SerializeResult };
  [NOTEBOOK_EXPORT]: { params: ExportParams; result: ExportResult };
  [NOTEBOOK_CHECKPOINT]: { params: CheckpointParams; result: CheckpointResults[CheckpointAction] };
  [KERNEL_SPECS]: { params: Record<string, never>; result: SpecsResult };
  [KERNEL_START]: { params: StartParams; result: StartResult };
  [KERNEL_EXECUTE]: { params: ExecuteParams; result: ExecuteResult };
  [KERNEL_INTERRUPT]: { params: KernelParams; result: null };
  [KERNEL_RESTART]: { params: KernelParams; result: StartResult };
  [KERNEL_SHUTDOWN]: { params: KernelParams; result: null };
  [KERNEL_ENVIRONMENTS]: { params: Record<string, never>; result: EnvironmentsResult };
  [KERNEL_INSTALL_IPYKERNEL]: { params: EnvironmentParams; result: PythonEnvironment };
  [KERNEL_SERVERS_ADD]: { params: AddServerParams; result: JupyterServerInfo };
  [KERNEL_SERVERS_LIST]: { params: Record<string, never>; result: { servers: JupyterServerInfo[] } };
  [KERNEL_SERVERS_REMOVE]: { params: { serverId: string }; result: null };
  [KERNEL_SERVERS_KERNELS]: { params: { serverId: string }; result: ServerKernelsResult };
  [KERNEL_SEND_COMM]: { params: SendCommParams; result: { msgId: string } };
  [KERNEL_COMM_INFO]: { params: CommInfoParams; result: CommInfoResult };
  [KERNEL_WIDGET_STATE]: { params: KernelParams; result: WidgetState };
  [KERNEL_ATTACH]: { params: AttachParams; result: AttachResult };
  [KERNEL_LIST]: { params: Record<string, never>; result: { kernels: ListedKernel[] } };
}

export type Method = keyof Requests;
export type ParamsOf<M extends Method> = Requests[M]["params"];
export type ResultOf<M extends Method> = Requests[M]["result"];
/** The requests whose result may come in parts. */
export type PartedMethod = { [M in Method]: Requests[M] extends { part: unknown } ? M : never }[Method];
export type PartOf<M extends PartedMethod> = Requests[M] extends { part: infer P } ? P : never;
