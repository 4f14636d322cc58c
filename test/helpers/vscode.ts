import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './cli';
import { freePort } from './free-port';

export const resultsDir = path.join(repoRoot, 'test-results');

/** The extension as users install it: a .vsix made by vsce from the built dist/, in `dir`. */
function vsix(dir: string): string {
  const out = path.join(dir, 'nix-ipfs.vsix');
  execFileSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '--no-rewrite-relative-links', '-o', out],
    { cwd: repoRoot, stdio: 'ignore' },
  );
  return out;
}

export interface VsCode {
  page: Page;
  url: string;
  /** VS Code's user data folder (settings, logs). */
  userDataDir: string;
  /** Clicks the activity-bar container "Nix IPFS". */
  openNixIpfs(): Promise<void>;
  openFile(name: string): Promise<void>;
  /** Hovers the first editor line containing `text`, at `text`; resolves to the hover's text. */
  hover(text: string): Promise<string>;
  runCommand(title: string): Promise<void>;
  /** The labels of a view's rows (e.g. "Mirrored Sources"). */
  viewRows(viewName: string): Promise<string[]>;
  statusBarText(): Promise<string>;
  /** The text of every notification showing (toasts and the notification center). */
  notifications(): Promise<string[]>;
  /** The extension's output channel "Nix IPFS", as VS Code wrote it to its log file. */
  outputLog(): string;
  screenshot(name: string): Promise<string>;
  /** After a failure: a screenshot named after `what`, and the end of the output log on stderr. */
  keepEvidence(what: string): Promise<void>;
  stop(): Promise<void>;
}

export interface VsCodeOptions {
  workspace: string;
  settings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/**
 * A real VS Code (code-server) with the packaged extension installed, driven through Debian's
 * Chromium by playwright-core: what a user sees and clicks.
 */
export async function startVsCode(options: VsCodeOptions): Promise<VsCode> {
  const entry = process.env.NIX_IPFS_CODE_SERVER;
  const node24 = process.env.NIX_IPFS_NODE24;
  if (!entry || !node24)
    throw new Error('NIX_IPFS_CODE_SERVER / NIX_IPFS_NODE24 are not set: run the e2e suite through `npm test` (scripts/setup-e2e.mjs installs code-server)');
  const base = mkdtempSync(path.join(tmpdir(), 'nix-ipfs-vscode-'));
  const userData = path.join(base, 'user-data');
  const extensions = path.join(base, 'extensions');
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(userData, 'User/settings.json'),
    JSON.stringify({
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoUpdate': false,
      'editor.hover.delay': 300,
      'git.openRepositoryInParentFolders': 'never',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.disableAIFeatures': true,
      ...options.settings,
    }),
  );
  const args = [
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir',
    userData,
    '--extensions-dir',
    extensions,
  ];
  execFileSync(node24, [entry, ...args, '--install-extension', vsix(base)], { stdio: 'ignore', env: { ...process.env, ...options.env } });
  const port = await freePort();
  const server: ChildProcess = spawn(node24, [entry, ...args, '--bind-addr', `127.0.0.1:${port}`, options.workspace], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stdout!.on('data', (c) => (log += c));
  server.stderr!.on('data', (c) => (log += c));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start:\n${log}`)), 60_000);
    const check = () => {
      if (log.includes('HTTP server listening')) {
        clearTimeout(timer);
        resolve();
      } else setTimeout(check, 100);
    };
    check();
  });

  const browser: Browser = await chromium.launch({
    executablePath: process.env.NIX_IPFS_CHROMIUM ?? '/usr/bin/chromium',
    // The caller stops everything it started on Ctrl-C (playwright's own handler would exit first).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.workspace)}`;
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector('.activitybar', { timeout: 60_000 });
  mkdirSync(resultsDir, { recursive: true });

  const vs: VsCode = {
    page,
    url,
    userDataDir: userData,
    async openNixIpfs() {
      const item = page.locator('.activitybar [aria-label^="Nix IPFS"]').first();
      await item.waitFor({ timeout: 60_000 });
      const node = page.locator('.sidebar .pane-header', { hasText: 'Node' }).first();
      // Clicking the container's icon while it shows would hide the sidebar.
      if (!(await node.isVisible())) await item.click();
      await node.waitFor({ timeout: 30_000 });
    },
    async openFile(name) {
      const tab = page.locator('.tab', { hasText: name }).first();
      if (await tab.count()) {
        await tab.click();
        await page.locator('.tab.active', { hasText: name }).first().waitFor({ timeout: 30_000 });
        return;
      }
      // Through runCommand: a focused walkthrough button swallows a bare F1. Right after start the
      // workbench still opens its Welcome page, which closes the palette under us: then again.
      const palette = page.locator('.quick-input-widget');
      for (let attempt = 1; ; attempt++) {
        try {
          await vs.runCommand('Go to File...');
          await palette.locator('input').fill(name, { timeout: 5000 });
          await palette.locator('.monaco-list-row', { hasText: name }).first().click({ timeout: 10_000 });
          await tab.waitFor({ timeout: 10_000 });
          break;
        } catch (error) {
          if (attempt === 3) throw error;
          await page.keyboard.press('Escape');
        }
      }
      await page.waitForTimeout(1000);
    },
    async hover(text) {
      const line = page.locator('.view-line', { hasText: text }).first();
      await line.waitFor({ timeout: 30_000 });
      const box = (await line.boundingBox())!;
      const lineText = (await line.innerText()).replace(/\u00a0/g, ' ');
      const at = Math.max(0, lineText.indexOf(text)) + Math.min(6, text.length);
      const charWidth = box.width / Math.max(1, lineText.length);
      const x = box.x + Math.min(box.width - 2, at * charWidth);
      const y = box.y + box.height / 2;
      for (let attempt = 0; attempt < 5; attempt++) {
        await page.mouse.move(x - 10, y);
        await page.mouse.move(x, y, { steps: 4 });
        try {
          const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content').first();
          await hover.waitFor({ state: 'visible', timeout: 4000 });
          await page.waitForTimeout(1000);
          return await hover.innerText();
        } catch {
          await page.mouse.move(10, 10);
        }
      }
      throw new Error(`no hover appeared over '${text}'`);
    },
    async runCommand(title) {
      // A context menu left open takes every click until it is closed.
      if (await page.locator('.context-view .monaco-menu').count()) await page.keyboard.press('Escape');
      // F1 must reach the workbench: not a walkthrough button or an input that keeps its keys.
      await page.evaluate('document.activeElement?.blur()');
      await page.locator('.statusbar').click({ position: { x: 600, y: 5 } });
      const palette = page.locator('.quick-input-widget');
      // An input box still open (or closing) would take the keys meant for the palette.
      await palette.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => page.keyboard.press('Escape'));
      for (let attempt = 0; attempt < 3 && !(await palette.isVisible()); attempt++) {
        await page.keyboard.press('F1');
        await palette.waitFor({ timeout: 5000 }).catch(() => undefined);
      }
      await palette.locator('input').fill(`>${title}`, { timeout: 5000 });
      // The entry with this title (and maybe its '…'): Enter would run whichever row the fuzzy filter put first.
      const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}…?$`);
      await palette
        .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: exact }) })
        .first()
        .click({ timeout: 10_000 });
    },
    async viewRows(viewName) {
      const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: viewName }) }).first();
      const header = pane.locator('.pane-header').first();
      if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
      return pane.locator('.monaco-list-row').allInnerTexts();
    },
    async statusBarText() {
      return page.locator('#nix-ipfs\\.nix-ipfs\\.nixIpfs\\.status, .statusbar-item[id*="nixIpfs.status"]').first().innerText();
    },
    async screenshot(name) {
      const file = path.join(resultsDir, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async keepEvidence(what) {
      await vs.screenshot(`failed-${what.replace(/\W+/g, '-')}`);
      process.stderr.write(`--- the Nix IPFS output log\n${vs.outputLog().split('\n').slice(-60).join('\n')}\n`);
    },
    async notifications() {
      return page.locator('.notifications-toasts .notification-list-item-message, .notifications-center .notification-list-item-message').allInnerTexts();
    },
    outputLog() {
      const files = execFileSync('find', [userData, '-name', '*Nix IPFS.log'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      return files.map((file) => readFileSync(file, 'utf8')).join('\n');
    },
    async stop() {
      await browser.close().catch(() => undefined);
      // code-server writes logs and state into the folder until it has exited.
      if (server.exitCode === null) await new Promise((resolve) => server.once('exit', resolve).kill());
      rmSync(base, { recursive: true, force: true });
    },
  };
  return vs;
}

export function codeServerAvailable(): boolean {
  return Boolean(process.env.NIX_IPFS_CODE_SERVER && existsSync(process.env.NIX_IPFS_CODE_SERVER));
}
