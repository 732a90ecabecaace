// The bridge process: started in its own environment (or with the configured Python),
// spoken to through vscode-languageclient over stdio, restarted with backoff when it dies.

import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  ProgressType,
  ResponseError,
  RevealOutputChannelOn,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { ensureBridgeEnvironment, NoPythonError } from "./bridgeEnvironment";
import type { Method, ParamsOf, PartedMethod, PartOf, ResultOf } from "./protocol";
import { NOTEBOOK_TYPE } from "./serializer";

const RESTART_DELAYS_MS = [500, 1000, 2000, 5000, 10000, 30000];
/** A bridge that ran this long before dying starts the backoff over. */
const HEALTHY_UPTIME_MS = 60_000;

export interface BridgeCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** `<python> -m bridge serve`: the Python `nbbridge.pythonPath` names (for people who
 * develop the bridge), else the bridge's own environment, made on first use. */
export async function bridgeCommand(
  context: vscode.ExtensionContext | undefined,
  log: (line: string) => void,
): Promise<BridgeCommand> {
  const config = vscode.workspace.getConfiguration("nbbridge");
  const configured = config.get<string>("pythonPath", "").trim();
  const args = ["-m", "bridge", "--log-level", config.get<string>("logLevel", "WARNING"), "serve"];
  if (configured || context === undefined) {
    return { command: configured || "python3", args, env: {} };
  }
  const environment = await ensureBridgeEnvironment(context, log);
  // export installs its extra from the same wheels on first use
  return { command: environment.python, args, env: { NBBRIDGE_WHEELS: environment.wheels } };
}

/** No Python for the bridge: say what to install, and offer the notebooks as text. */
async function offerText(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, "Open as Text", "Get Python");
  if (choice === "Get Python") {
    await vscode.env.openExternal(vscode.Uri.parse("https://www.python.org/downloads/"));
  } else if (choice === "Open as Text") {
    for (const tab of vscode.window.tabGroups.all.flatMap((group) => group.tabs)) {
      if (tab.input instanceof vscode.TabInputNotebook && tab.input.notebookType === NOTEBOOK_TYPE) {
        await vscode.commands.executeCommand("vscode.openWith", tab.input.uri, "default");
      }
    }
  }
}

/** A request failed on the bridge's side: its message is meant for the user as it is. */
export class BridgeRequestError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

async function send<R>(request: () => Promise<R>): Promise<R> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof ResponseError) {
      throw new BridgeRequestError(error.message, error.code);
    }
    throw error;
  }
}

export class Bridge implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private running: Promise<LanguageClient> | undefined;
  private failures = 0;
  private partTokens = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly started = new vscode.EventEmitter<LanguageClient>();
  private readonly stopped = new vscode.EventEmitter<void>();
  /** Fires with the client each time a bridge process is up (first start and restarts). */
  readonly onDidStart = this.started.event;
  /** Fires when a bridge process is gone: everything it held (kernels, executions) is lost. */
  readonly onDidStop = this.stopped.event;
  private waiting: Array<{ resolve: (client: LanguageClient) => void; reject: (error: Error) => void }> = [];

  private toldNoPython = false;

  constructor(
    readonly output: vscode.OutputChannel,
    private readonly context?: vscode.ExtensionContext,
  ) {}

  /** The running client, waiting through a start or restart in progress. */
  ready(): Promise<LanguageClient> {
    if (this.client?.state === State.Running) {
      return Promise.resolve(this.client);
    }
    if (this.restartTimer === undefined) {
      return this.start();
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async request<M extends Method>(
    method: M,
    params: ParamsOf<M>,
    token?: vscode.CancellationToken,
  ): Promise<ResultOf<M>> {
    const client = await this.ready();
    return send(() =>
      token ? client.sendRequest<ResultOf<M>>(method, params, token) : client.sendRequest<ResultOf<M>>(method, params),
    );
  }

  /** A request whose result may come partly ahead of the reply, as LSP partial results
   * (`$/progress` for its `partialResultToken`): each is handed to `onPart`, in order,
   * as it arrives, so its parsing overlaps the bridge's work on the next. */
  async requestInParts<M extends PartedMethod>(
    method: M,
    params: ParamsOf<M>,
    onPart: (part: PartOf<M>) => void,
  ): Promise<ResultOf<M>> {
    const client = await this.ready();
    const partialResultToken = `nbbridge-part-${++this.partTokens}`;
    const listening = client.onProgress(new ProgressType<PartOf<M>>(), partialResultToken, onPart);
    try {
      return await send(() => client.sendRequest<ResultOf<M>>(method, { ...params, partialResultToken }));
    } finally {
      listening.dispose();
    }
  }

  start(): Promise<LanguageClient> {
    this.running ??= this.launch().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stop the bridge (its kernels go with it) and start a fresh one, e.g. with new settings. */
  async restart(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    if (old !== undefined) {
      await this.stopClient(old);
    }
    this.failures = 0;
    await this.start();
  }

  private async launch(): Promise<LanguageClient> {
    let resolved: BridgeCommand;
    try {
      resolved = await bridgeCommand(this.context, (line) => this.output.appendLine(line));
    } catch (error) {
      this.output.appendLine(errorMessage(error));
      if (error instanceof NoPythonError && !this.toldNoPython) {
        this.toldNoPython = true;
        void offerText(error.message);
      }
      throw error;
    }
    const { command, args, env } = resolved;
    const config = vscode.workspace.getConfiguration("nbbridge");
    this.output.appendLine(`starting the bridge: ${command} ${args.join(" ")}`);
    const serverOptions: ServerOptions = {
      command,
      args,
      options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, env: { ...process.env, ...env } },
    };
    const clientOptions: LanguageClientOptions = {
      // Every cell of our notebooks, whatever its language: the bridge answers language
      // features from jedi for Python cells and from the notebook's kernel for all of them.
      documentSelector: [{ notebook: { notebookType: NOTEBOOK_TYPE } }],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: {
        warmPool: config.get<boolean>("warmPool", false),
        kernelStartTimeout: config.get<number>("kernelStartTimeout", 60),
        durableKernels: config.get<boolean>("durableKernels", true),
        cullIdleAfter: idleSeconds(config.get<number | null>("shutDownIdleKernelsAfterMinutes", 1440)),
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          this.onClosed(client);
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      initializationFailedHandler: () => false,
    };
    const client = new LanguageClient("nbbridge", "nbbridge", serverOptions, clientOptions);
    this.client = client;
    try {
      await client.start();
      if (!client.isRunning()) {
        throw new Error("it exited during start-up");
      }
    } catch (error) {
      const message =
        `the bridge did not start (${command} ${args.join(" ")}): ${errorMessage(error)}. ` +
        'See "nbbridge: Show Bridge Log"; the Python is set by "nbbridge.pythonPath".';
      this.output.appendLine(message);
      for (const waiter of this.waiting.splice(0)) {
        waiter.reject(new Error(message));
      }
      if (this.client === client) {
        this.client = undefined;
        this.scheduleRestart(`did not start (${command})`);
      }
      throw new Error(message);
    }
    this.startedAt = Date.now();
    this.output.appendLine("the bridge is running");
    this.started.fire(client);
    for (const waiter of this.waiting.splice(0)) {
      waiter.resolve(client);
    }
    return client;
  }

  private onClosed(client: LanguageClient): void {
    if (this.client !== client || this.disposed || this.running !== undefined) {
      return; // a start in progress reports its own failure
    }
    this.client = undefined;
    this.output.appendLine("the bridge process stopped");
    this.stopped.fire();
    this.scheduleRestart("stopped unexpectedly");
  }

  private scheduleRestart(why: string): void {
    if (this.disposed || this.restartTimer !== undefined) {
      return;
    }
    if (Date.now() - this.startedAt > HEALTHY_UPTIME_MS) {
      this.failures = 0;
    }
    if (this.failures >= RESTART_DELAYS_MS.length) {
      // Give up until something asks for the bridge again (the next open, save or run).
      void vscode.window.showErrorMessage(
        `nbbridge: the bridge process ${why}, again; not restarting it. See "nbbridge: Show Bridge Log".`,
      );
      this.failures = 0;
      return;
    }
    const delay = RESTART_DELAYS_MS[this.failures];
    this.failures += 1;
    void vscode.window
      .showWarningMessage(
        `nbbridge: the bridge process ${why}; restarting it in ${delay / 1000} s. ` +
          "Open notebooks stay open; kernels must be started again.",
        "Show Log",
      )
      .then((choice) => {
        if (choice === "Show Log") {
          this.output.show();
        }
      });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start().catch(() => undefined);
    }, delay);
  }

  private async stopClient(client: LanguageClient): Promise<void> {
    try {
      if (client.state === State.Running) {
        await client.stop(5000);
      }
    } catch (error) {
      this.output.appendLine(`stopping the bridge: ${String(error)}`);
    }
    this.stopped.fire();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    clearTimeout(this.restartTimer);
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      await this.stopClient(client);
    }
    this.started.dispose();
    this.stopped.dispose();
  }
}

/** An error as the user is shown it: its message (a bridge error's names the problem). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The bridge's cullIdleAfter (seconds, null for never) from the setting in minutes. */
function idleSeconds(minutes: number | null): number | null {
  return minutes === null ? null : Math.max(1, minutes) * 60;
}
