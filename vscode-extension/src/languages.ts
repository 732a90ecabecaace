// Jupyter's language names (kernelspecs, language_info) -> VS Code's language ids, so a
// kernel's cells get their language's highlighting and language features. Pure: no
// `vscode` import.

const VSCODE_IDS: Record<string, string> = {
  python: "python",
  python3: "python",
  ipython: "python",
  ipython3: "python",
  r: "r",
  bash: "shellscript",
  sh: "shellscript",
  shell: "shellscript",
  zsh: "shellscript",
  typescript: "typescript",
  javascript: "javascript",
  julia: "julia",
  scala: "scala",
  "c++": "cpp",
  "c++17": "cpp",
  csharp: "csharp",
  "c#": "csharp",
  fsharp: "fsharp",
  "f#": "fsharp",
  powershell: "powershell",
  sql: "sql",
  kotlin: "kotlin",
  rust: "rust",
  go: "go",
  ruby: "ruby",
  perl: "perl",
  lua: "lua",
  matlab: "matlab",
  octave: "matlab",
};

/** The VS Code language id for a Jupyter language name (lower case when unknown). */
export function vscodeLanguage(jupyterName: string): string {
  const name = jupyterName.trim().toLowerCase();
  return VSCODE_IDS[name] ?? name;
}

/** The VS Code language id of a kernel's `language_info`, if it names one. */
export function languageInfoLanguage(languageInfo: Record<string, unknown> | undefined): string | undefined {
  const name = languageInfo?.name;
  return typeof name === "string" && name.trim() ? vscodeLanguage(name) : undefined;
}
