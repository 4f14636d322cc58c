// `npm run test:vscode`: the @vscode/test-electron suite, for machines where VS Code can be
// downloaded or VSCODE_EXECUTABLE points at one. It is not part of `npm test` (offline here).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
try {
  await runTests({
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE,
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'test/vscode/suite.cjs'),
    launchArgs: [path.join(root, 'examples'), '--disable-extensions', '--disable-workspace-trust'],
  });
} catch (error) {
  console.error(`The @vscode/test-electron suite could not run (${error instanceof Error ? error.message : error}).`);
  console.error('It needs VS Code: set VSCODE_EXECUTABLE, or run where VS Code can be downloaded. Nothing was counted as passed.');
  process.exit(1);
}
