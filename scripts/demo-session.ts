// The running part of `npm run demo` (see demo.mjs, which installs and builds first): a private
// Kubo node (kept in .demo/), the sample workspace (examples/, copied to a temporary folder, its
// sources served on loopback so everything works offline), and VS Code. Ctrl-C removes every
// temporary folder.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain ESM module shared with the test rig (typed in test/helpers/kubo.ts)
import { startKuboNode } from './kubo-node.mjs';
import { generateKeyPair } from '../src/core/signature';
import { startDemoWorkspace } from '../test/helpers/demo-workspace';
import { startVsCode, type VsCode } from '../test/helpers/vscode';

const root = path.resolve(import.meta.dirname, '..');
const demo = path.join(root, '.demo');
const screenshot = process.argv.includes('--screenshot') ? path.resolve(process.argv[process.argv.indexOf('--screenshot') + 1] ?? 'demo.png') : undefined;

mkdirSync(path.join(demo, 'ipfs'), { recursive: true });
const keyFile = path.join(demo, 'signing-key.sk');
if (!existsSync(keyFile)) {
  const pair = generateKeyPair('nix-ipfs-demo-1');
  writeFileSync(keyFile, pair.secret, { mode: 0o600 });
  writeFileSync(path.join(demo, 'signing-key.pk'), pair.public);
}

const parts: { stop(): Promise<unknown> }[] = [];
let stopping: Promise<void> | undefined;
/** Stops everything started, newest first, once (Ctrl-C reaches this process and its parent). */
function stop(): Promise<void> {
  stopping ??= (async () => {
    for (const part of parts.reverse()) await part.stop().catch(() => undefined);
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop().then(() => process.exit(0)));

try {
  const node = await startKuboNode({ dir: path.join(demo, 'ipfs') });
  parts.push(node);
  const sample = await startDemoWorkspace();
  parts.push(sample);
  const vs: VsCode = await startVsCode({
    workspace: sample.workspace,
    settings: {
      'nixIpfs.kuboApi': node.apiAddr,
      'nixIpfs.gatewayUrl': node.gatewayUrl,
      'nixIpfs.signingKeyFile': keyFile,
      'nixIpfs.refreshIntervalSeconds': 5,
    },
  });
  parts.push(vs);
  if (screenshot) {
    await vs.openNixIpfs();
    await vs.openFile('greeting.nix');
    await vs.page.locator('.codelens-decoration a', { hasText: 'Pin to IPFS' }).first().waitFor({ timeout: 30_000 });
    copyFileSync(await vs.screenshot('demo'), screenshot);
    console.log(`screenshot: ${screenshot}`);
    await stop();
  } else {
    console.log(
      `\nnix-ipfs demo is running:\n  VS Code:  ${vs.url}\n  Kubo API: ${node.apiAddr}  gateway: ${node.gatewayUrl}\n  sources:  ${sample.origin} (examples/upstream)\n  data in:  ${demo}\nPress Ctrl-C to stop.\n`,
    );
    await new Promise(() => undefined);
  }
} catch (error) {
  await stop();
  throw error;
}
