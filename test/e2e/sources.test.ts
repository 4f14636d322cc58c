// The Sources view in a real VS Code (code-server) with a real Kubo node and Nix behind it: a source whose
// URL died and that only the Nix store still has is shown at risk; Rescue pins it from the store; stock Nix
// then builds its fetcher through hashed-mirrors with the URL still dead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { run } from '../helpers/cli';
import { startDemoWorkspace } from '../helpers/demo-workspace';
import { nix, noNarinfoCache, tempDir, untrustedDaemonUser } from '../helpers/nix-env';
import { startVsCode } from '../helpers/vscode';
import { eventually as poll, stepsOf, type OnFailure } from '../helpers/steps';
import { cidForFlatHash } from '../../src/core/cid';
import { NixHash } from '../../src/core/hash';

test('the Sources view: a dead URL at risk, rescued from the store, built by stock Nix through hashed-mirrors', async (t) => {
  const node = await startKuboNode();
  const sample = await startDemoWorkspace();
  t.after(() => sample.stop());
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };

  // A source of this run only, served on loopback while a first build fetches it into the store.
  const content = `rescued source ${process.pid} ${Date.now()}\n`;
  const sha256 = createHash('sha256').update(content).digest('hex');
  const cid = cidForFlatHash(new NixHash('sha256', new Uint8Array(createHash('sha256').update(content).digest())))!;
  const upstream = createServer((_, res) => res.end(content)).listen(0, '127.0.0.1');
  await new Promise((r) => upstream.once('listening', r));
  const name = `rescue-me-${process.pid}.tar.gz`;
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/${name}`;
  const fetcher = path.join(sample.workspace, 'rescue-me.nix');
  writeFileSync(
    fetcher,
    `# A source whose host goes away.\n{ fetchurl ? import <nix/fetchurl.nix> }:\nfetchurl {\n  url = "${url}";\n  sha256 = "${sha256}";\n}\n`,
  );
  const storePath = await nix('nix-build', ['--no-out-link', fetcher, '--option', 'hashed-mirrors', ''], env);
  await new Promise((r) => upstream.close(r));

  const vs = await startVsCode({
    workspace: sample.workspace,
    settings: { 'nixIpfs.kuboApi': node.apiAddr, 'nixIpfs.gatewayUrl': node.gatewayUrl, 'nixIpfs.requestTimeoutMs': 3000 },
  });
  t.after(() => vs.stop());
  const { page } = vs;
  const onFailure: OnFailure = (what) => vs.keepEvidence(`sources-${what}`);
  const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number) => poll(what, probe, { timeoutMs, onFailure });
  /** A step of the walk; a failure leaves a screenshot and the end of the output log. */
  const step = stepsOf(t, onFailure);
  // "Mirrored Sources" has "Sources" in its title too: the pane whose title is exactly that.
  const sourcesPane = page.locator('.pane', { has: page.locator('.pane-header .title', { hasText: /^Sources$/ }) }).first();
  const sourceRow = async () => (await sourcesPane.locator('.monaco-list-row').allInnerTexts()).find((r) => r.includes(name)) ?? '';

  await step('Check Upstream URLs shows the dead URL at risk: only the Nix store has it', async () => {
    await vs.openNixIpfs();
    await sourcesPane.waitFor({ timeout: 30_000 });
    // Collapsed until opened (it scans the workspace): open it.
    const header = sourcesPane.locator('.pane-header').first();
    await eventually('the Sources view to open', async () => {
      if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
      return (await header.getAttribute('aria-expanded')) === 'true';
    });
    await eventually('the Sources view to list the source', async () => (await sourceRow()) !== '');
    // Run again when the palette entry or its progress was lost in a re-render, until the view says dead.
    await eventually(
      'the source to show at risk, its URL dead',
      async () => {
        if (/at risk · upstream dead, store/.test(await sourceRow())) return true;
        await vs.runCommand('Nix IPFS: Check Upstream URLs of Sources');
        await page.waitForTimeout(3000);
        return /at risk · upstream dead, store/.test(await sourceRow());
      },
      120_000,
    );
    // For the screenshot: the editor area empty, and the row open on its three places.
    await vs.runCommand('View: Close All Editors').catch(() => undefined);
    for (const other of ['Published Paths', 'Mirrored Sources', 'Node', 'Followed Caches']) {
      const header = page.locator('.pane-header', { has: page.locator('.title', { hasText: new RegExp(`^${other}$`) }) }).first();
      if ((await header.getAttribute('aria-expanded')) === 'true') await header.click().catch(() => undefined);
    }
    await sourcesPane
      .locator('.monaco-list-row', { hasText: name })
      .first()
      .click({ timeout: 5000 })
      .catch(() => undefined);
    await sourcesPane
      .locator('.monaco-list-row', { hasText: 'Nix store' })
      .first()
      .waitFor({ timeout: 5000 })
      .catch(() => undefined);
    await vs.screenshot('sources-01-at-risk');
  });

  await step('Rescue pins it from the store, and the view shows it safe', async () => {
    const rescued = /safe · upstream dead, store, IPFS/;
    const picker = page.locator('.quick-input-widget', { hasText: 'Rescue Source: pin it' });
    // The palette entry, the pick or the view's refresh can be lost in a re-render: start again until the view says safe.
    await eventually(
      'Rescue Source to offer the source, and the view to show it safe',
      async () => {
        if (rescued.test(await sourceRow())) return true;
        await vs.runCommand('Nix IPFS: Rescue Source…');
        await picker.waitFor({ timeout: 30_000 });
        await picker.locator('input').fill(name);
        await picker.locator('.monaco-list-row', { hasText: name }).first().waitFor({ timeout: 5000 });
        await page.keyboard.press('Enter');
        await picker.waitFor({ state: 'hidden', timeout: 5000 });
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && !rescued.test(await sourceRow())) await page.waitForTimeout(500);
        return rescued.test(await sourceRow());
      },
      150_000,
    );
    assert.match(vs.outputLog(), /rescue: 1 pinned \(1 from the Nix store, 0 from upstream\)/);
    assert.match(await node.cli(['pin', 'ls', '--type=recursive']), new RegExp(cid));
    await vs.screenshot('sources-02-rescued');
  });

  await step('stock Nix builds the fetcher through hashed-mirrors on the gateway, the URL still dead', async (st) => {
    // nix-daemon ignores an untrusted user's hashed-mirrors (see test/integration/workflows.test.ts).
    if (untrustedDaemonUser) return st.skip('an untrusted user of nix-daemon cannot set hashed-mirrors');
    assert.equal((await run('nix-store', ['--delete', storePath])).code, 0, 'the store copy is gone');
    const withoutMirror = await run('nix-build', ['--no-out-link', fetcher, '--option', 'substituters', '', '--option', 'hashed-mirrors', ''], { env });
    assert.notEqual(withoutMirror.code, 0, 'the URL must really be dead');
    const root = (await node.cli(['files', 'stat', '--hash', '/nix-ipfs'])).trim();
    const mirror = `${node.gatewayUrl}/ipfs/${root}/mirror/`;
    const built = await run('nix-build', ['--no-out-link', fetcher, '--option', 'substituters', '', '--option', 'hashed-mirrors', mirror, ...noNarinfoCache], {
      env,
    });
    assert.equal(built.code, 0, built.stderr);
    assert.equal(built.stdout.trim(), storePath);
  });
});
