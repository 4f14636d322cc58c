import * as vscode from 'vscode';

/**
 * The nix.conf lines for this node as a read-only document (`nix-ipfs:/nix.conf`): titled
 * nix.conf, highlighted as a Nix configuration, never asking to be saved. Its editor has a Copy
 * button; the lines are asked of the language server afresh each time they are shown.
 */
export class NixConfDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'nix-ipfs';
  static readonly uri = vscode.Uri.from({ scheme: NixConfDocument.scheme, path: '/nix.conf' });
  private text = '';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(): string {
    return this.text;
  }

  /** Shows the lines (replacing what an open nix.conf document showed). */
  async show(text: string): Promise<void> {
    this.text = text;
    this.changed.fire(NixConfDocument.uri);
    const document = await vscode.workspace.openTextDocument(NixConfDocument.uri);
    await vscode.window.showTextDocument(document, { preview: true });
  }

  get current(): string {
    return this.text;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
