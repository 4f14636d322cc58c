import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ClientCommand, ClientView } from '../../../src/protocol';
import { DEFAULT_SESSION, DEFAULT_SETTINGS, normalizeSession, normalizeSettings, SETTINGS_SCHEMA, SettingsError } from '../../../src/settings';

const manifest = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../../package.json'), 'utf8'));

test("package.json's settings are the schema's: same names, types, defaults and bounds", () => {
  const properties = manifest.contributes.configuration.properties as Record<string, { type: string; default: unknown; minimum?: number; maximum?: number }>;
  assert.deepEqual(
    Object.keys(properties).sort(),
    Object.keys(SETTINGS_SCHEMA)
      .map((k) => `nixIpfs.${k}`)
      .sort(),
  );
  for (const [key, field] of Object.entries(SETTINGS_SCHEMA)) {
    const { type, default: value, minimum, maximum } = properties[`nixIpfs.${key}`];
    assert.deepEqual({ type, default: value, minimum, maximum }, { minimum: undefined, maximum: undefined, ...field }, key);
  }
});

test("package.json's commands are the protocol's client commands", () => {
  const declared = (manifest.contributes.commands as { command: string }[]).map((c) => c.command).sort();
  assert.deepEqual(declared, Object.values(ClientCommand).sort());
});

test("package.json's views are the protocol's", () => {
  const declared = (manifest.contributes.views.nixIpfs as { id: string }[]).map((v) => v.id).sort();
  assert.deepEqual(declared, Object.values(ClientView).sort());
});

test('settings from another editor: nested or dotted names, missing ones keep the base', () => {
  const settings = normalizeSettings({ kuboApi: 'http://127.0.0.1:5002', diagnostics: { notMirrored: true }, unknownKey: 1 });
  assert.equal(settings.kuboApi, 'http://127.0.0.1:5002');
  assert.equal(settings['diagnostics.notMirrored'], true);
  assert.equal(settings.mfsRoot, DEFAULT_SETTINGS.mfsRoot);
  assert.equal(normalizeSettings({ 'diagnostics.notMirrored': true })['diagnostics.notMirrored'], true);
  assert.equal(normalizeSettings({ concurrency: 8 }, settings).kuboApi, 'http://127.0.0.1:5002');
  assert.deepEqual(normalizeSettings(undefined), DEFAULT_SETTINGS);
  assert.deepEqual(normalizeSession({ kuboApiToken: 't', insecureApisAccepted: ['http://10.0.0.2:5001'] }), {
    ...DEFAULT_SESSION,
    kuboApiToken: 't',
    insecureApisAccepted: ['http://10.0.0.2:5001'],
  });
});

test('a wrong type is refused with every problem named, and nothing is applied', () => {
  assert.throws(
    () => normalizeSettings({ requestTimeoutMs: '5000', trustedPublicKeys: 'k:abc', concurrency: 0, kuboApi: 'http://127.0.0.1:5002' }),
    (error: Error) =>
      error instanceof SettingsError &&
      /requestTimeoutMs must be a number \(got "5000"\)/.test(error.message) &&
      /trustedPublicKeys must be a list of strings/.test(error.message) &&
      /concurrency must be at least 1/.test(error.message),
  );
  assert.throws(() => normalizeSettings('kuboApi=x'), /must be an object/);
  assert.throws(() => normalizeSession({ trusted: 'yes' }), /trusted must be a boolean/);
});
