// JupyterLab's theme variables, which the widget CSS reads, from the editor's colour theme
// (VS Code sets --vscode-* on the webview and updates them when the theme changes).

export const themeStyle = `
:root {
  --jp-ui-font-family: var(--vscode-font-family);
  --jp-ui-font-size1: var(--vscode-font-size, 13px);
  --jp-content-font-family: var(--vscode-font-family);
  --jp-code-font-family: var(--vscode-editor-font-family);
  --jp-code-font-size: var(--vscode-editor-font-size);
  --jp-ui-font-color0: var(--vscode-foreground);
  --jp-ui-font-color1: var(--vscode-foreground);
  --jp-ui-font-color2: var(--vscode-descriptionForeground);
  --jp-ui-font-color3: var(--vscode-disabledForeground);
  --jp-content-font-color0: var(--vscode-editor-foreground);
  --jp-content-font-color1: var(--vscode-editor-foreground);
  --jp-content-font-color2: var(--vscode-descriptionForeground);
  --jp-layout-color0: var(--vscode-editor-background);
  --jp-layout-color1: var(--vscode-editor-background);
  --jp-layout-color2: var(--vscode-input-background);
  --jp-layout-color3: var(--vscode-widget-border, var(--vscode-input-border));
  --jp-border-color0: var(--vscode-input-border, var(--vscode-widget-border));
  --jp-border-color1: var(--vscode-input-border, var(--vscode-widget-border));
  --jp-border-color2: var(--vscode-widget-border, var(--vscode-input-border));
  --jp-brand-color1: var(--vscode-focusBorder);
  --jp-brand-color2: var(--vscode-button-background);
  --jp-brand-color3: var(--vscode-button-hoverBackground);
  --jp-inverse-layout-color1: var(--vscode-button-foreground);
  --jp-widgets-input-color: var(--vscode-input-foreground);
  --jp-widgets-input-background-color: var(--vscode-input-background);
  --jp-widgets-input-border-color: var(--vscode-input-border, var(--vscode-widget-border));
  --jp-widgets-slider-handle-background-color: var(--vscode-editor-background);
  --jp-widgets-slider-active-handle-color: var(--vscode-focusBorder);
}
.nbbridge-widget { color: var(--vscode-editor-foreground); }
.nbbridge-widget .widget-button, .nbbridge-widget .jupyter-button {
  background-color: var(--vscode-button-secondaryBackground, var(--vscode-button-background));
  color: var(--vscode-button-secondaryForeground, var(--vscode-button-foreground));
}
.nbbridge-widget .jupyter-button.mod-primary {
  background-color: var(--vscode-button-background);
  color: var(--vscode-button-foreground);
}
`;
