// A notebook's code cells speak its kernel's language: once a kernel starts, its
// `language_info` names the language (syntax highlighting, and which cells the bridge
// answers language features for as that language).

import * as vscode from "vscode";
import { RAW_LANGUAGE } from "./notebookData";

/** The notebook's code cells take `language` (raw cells stay raw), where this editor
 * knows the language; a language it does not know leaves the cells as they are. */
export async function adoptLanguage(notebook: vscode.NotebookDocument, language: string): Promise<void> {
  if (notebook.isClosed || !(await vscode.languages.getLanguages()).includes(language)) {
    return;
  }
  for (const cell of notebook.getCells()) {
    const current = cell.document.languageId;
    if (cell.kind === vscode.NotebookCellKind.Code && current !== language && current !== RAW_LANGUAGE) {
      await vscode.languages.setTextDocumentLanguage(cell.document, language);
    }
  }
}
