// The running part of `npm run demo` (see demo.mjs, which installs and builds first).
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain ESM module shared with the test rig (typed in test/helpers/kubo.ts)
import { startKuboNode } from './kubo-node.mjs';
import { startVsCode } from '../test/helpers/vscode';
import { generateKeyPair } from '../src/core/signature';
import { writeFileSync } from 'node:fs';

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
const node = await startKuboNode({ dir: path.join(demo, 'ipfs') });
const vs = await startVsCode({
  workspace: path.join(root, 'examples'),
  settings: { 'nixIpfs.kuboApi': node.apiAddr, 'nixIpfs.gatewayUrl': node.gatewayUrl, 'nixIpfs.signingKeyFile': keyFile, 'nixIpfs.refreshIntervalSeconds': 5 },
});
const stop = async () => {
  await vs.stop();
  await node.stop();
};

if (screenshot) {
  try {
    await vs.openNixIpfs();
    await vs.openFile('hello.nix');
    await vs.page.waitForTimeout(3000);
    copyFileSync(await vs.screenshot('demo'), screenshot);
    console.log(`screenshot: ${screenshot}`);
  } finally {
    await stop();
  }
} else {
  console.log(`\nnix-ipfs demo is running:\n  VS Code:  ${vs.url}\n  Kubo API: ${node.apiAddr}  gateway: ${node.gatewayUrl}\n  data in:  ${demo}\nPress Ctrl-C to stop.\n`);
  process.on('SIGINT', () => void stop().then(() => process.exit(0)));
  await new Promise(() => undefined);
}
