// "Connect to Jupyter Server…": the servers the user added, kept with their tokens in
// VS Code's SecretStorage, added again to each bridge that starts; their kernelspecs for
// the kernel picker.

import * as vscode from "vscode";
import { errorMessage, type Bridge } from "./client";
import {
  KERNEL_SERVERS_ADD,
  KERNEL_SERVERS_KERNELS,
  KERNEL_SERVERS_REMOVE,
  type JupyterServerInfo,
  type KernelSpec,
} from "./protocol";
import { parseServerInput, remoteSpecs } from "./remoteSpecs";

const SECRET_KEY = "nbbridge.jupyterServers";

interface SavedServer {
  url: string;
  token?: string;
  caFile?: string;
}

export class JupyterServers implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a server was added or removed, or re-added to a new bridge. */
  readonly onDidChange = this.changed.event;
  private added: Promise<JupyterServerInfo[]> = Promise.resolve([]);
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly bridge: Bridge,
    private readonly secrets: vscode.SecretStorage,
  ) {
    this.disposables = [
      this.changed,
      bridge.onDidStart(() => {
        this.added = this.addSaved();
        void this.added.then(() => this.changed.fire());
      }),
      vscode.commands.registerCommand("nbbridge.connectToJupyterServer", () => this.connect()),
      vscode.commands.registerCommand("nbbridge.removeJupyterServer", () => this.remove()),
    ];
  }

  /** The kernelspecs of every server added to the running bridge. */
  async specs(): Promise<KernelSpec[]> {
    const servers = await this.added;
    const lists = await Promise.all(
      servers.map(async (server) => {
        try {
          return remoteSpecs(server, await this.bridge.request(KERNEL_SERVERS_KERNELS, { serverId: server.serverId }));
        } catch (error) {
          this.bridge.output.appendLine(`cannot list the kernels of ${server.url}: ${errorMessage(error)}`);
          return [];
        }
      }),
    );
    return lists.flat();
  }

  private async saved(): Promise<SavedServer[]> {
    const text = await this.secrets.get(SECRET_KEY);
    try {
      const parsed: unknown = text === undefined ? [] : JSON.parse(text);
      return Array.isArray(parsed) ? (parsed as SavedServer[]) : [];
    } catch {
      return [];
    }
  }

  private async save(servers: SavedServer[]): Promise<void> {
    await this.secrets.store(SECRET_KEY, JSON.stringify(servers));
  }

  private async addSaved(): Promise<JupyterServerInfo[]> {
    const added: JupyterServerInfo[] = [];
    for (const server of await this.saved()) {
      try {
        added.push(await this.bridge.request(KERNEL_SERVERS_ADD, server));
      } catch (error) {
        void vscode.window.showWarningMessage(`nbbridge: Jupyter Server ${server.url}: ${errorMessage(error)}`);
      }
    }
    return added;
  }

  private async connect(): Promise<void> {
    const input = await vscode.window.showInputBox({
      title: "Connect to Jupyter Server",
      prompt: "The server's URL (as `jupyter server list` prints it, token included, or without it)",
      placeHolder: "http://127.0.0.1:8888/?token=…",
      ignoreFocusOut: true,
      validateInput: (value) => {
        const parsed = parseServerInput(value);
        return typeof parsed === "string" ? parsed : undefined;
      },
    });
    const parsed = input === undefined ? undefined : parseServerInput(input);
    if (parsed === undefined || typeof parsed === "string") {
      return;
    }
    let token = parsed.token;
    if (token === undefined) {
      token = await vscode.window.showInputBox({
        title: `Token for ${parsed.url}`,
        prompt: "The server's token (empty if it needs none)",
        password: true,
        ignoreFocusOut: true,
      });
      if (token === undefined) {
        return;
      }
    }
    const wanted: SavedServer = { url: parsed.url, ...(token ? { token } : {}) };
    try {
      const server = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `nbbridge: connecting to ${parsed.url}` },
        () => this.bridge.request(KERNEL_SERVERS_ADD, wanted),
      );
      const others = (await this.saved()).filter((saved) => saved.url !== parsed.url && saved.url !== server.url);
      await this.save([...others, { ...wanted, url: server.url }]);
      const current = (await this.added).filter((known) => known.serverId !== server.serverId);
      this.added = Promise.resolve([...current, server]);
      this.changed.fire();
      void vscode.window.showInformationMessage(
        `nbbridge: connected to ${server.url} (Jupyter Server ${server.version}); its kernels are in the kernel picker`,
      );
    } catch (error) {
      void vscode.window.showErrorMessage(`nbbridge: ${errorMessage(error)}`);
    }
  }

  private async remove(): Promise<void> {
    const saved = await this.saved();
    const picked = await vscode.window.showQuickPick(
      saved.map((server) => server.url),
      { title: "Remove Jupyter Server", placeHolder: saved.length === 0 ? "no server was added" : undefined },
    );
    if (picked === undefined) {
      return;
    }
    await this.save(saved.filter((server) => server.url !== picked));
    const servers = await this.added;
    const gone = servers.find((server) => server.url === picked);
    if (gone !== undefined) {
      await this.bridge.request(KERNEL_SERVERS_REMOVE, { serverId: gone.serverId }).catch(() => null);
    }
    this.added = Promise.resolve(servers.filter((server) => server !== gone));
    this.changed.fire();
  }

  dispose(): void {
    this.disposables.forEach((disposable) => disposable.dispose());
  }
}
