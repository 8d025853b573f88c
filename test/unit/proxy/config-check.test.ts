/**
 * `mptcp-proxy check-config` in-process (output captured): role detection by keys or flag,
 * "FILE: ok (role)" and exit 0, every problem as FILE:LINE:COL: path: message and exit 2,
 * YAML syntax errors, undetectable roles, unreadable files, bad arguments; the examples pass.
 * One run of the built CLI when dist/ has the command (dist is built by `npm run build`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { detectRole, runCheckConfig } from '../../../proxy/cli/commands/check-config.js';

let out = '';
let err = '';
beforeEach(() => {
  out = err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'check-config-'));
function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}
const CLIENT = `aggregator:\n  host: 203.0.113.1\n  fingerprint: ${'ab'.repeat(32)}\n  clientId: me\n  secret: 0123456789abcdef\n`;
const AGGREGATOR = 'transport: tcp\nclients:\n  - { id: me, secret: 0123456789abcdef }\n';

describe('mptcp-proxy check-config', () => {
  it('valid files: "FILE: ok (role)" and exit 0, the role told by the keys', () => {
    const c = file('client.yaml', CLIENT);
    expect(runCheckConfig([c])).toBe(0);
    expect(out).toBe(`${c}: ok (client)\n`);
    const a = file('aggregator.yaml', AGGREGATOR);
    expect(runCheckConfig([a])).toBe(0);
    expect(out).toBe(`${c}: ok (client)\n${a}: ok (aggregator)\n`);
    expect(err).toBe('');
  });

  it('the shipped examples pass', () => {
    expect(runCheckConfig([join(ROOT, 'config/client.example.yaml')])).toBe(0);
    expect(runCheckConfig([join(ROOT, 'config/aggregator.example.yaml')])).toBe(0);
    expect(out).toContain('client.example.yaml: ok (client)');
    expect(out).toContain('aggregator.example.yaml: ok (aggregator)');
  });

  it('problems: one per line as FILE:LINE:COL: path: message, exit 2', () => {
    const f = file('bad.yaml', `${CLIENT}listn: [127.0.0.1:1080]\npool:\n  max: 70000\nrules:\n  - { match: { ports: [22] }, excludePaths: [lte] }\n`);
    expect(runCheckConfig([f])).toBe(2);
    expect(out).toBe('');
    expect(err.trimEnd().split('\n')).toEqual([
      `${f}:6:1: listn: unknown key 'listn' (did you mean 'listen'?)`,
      `${f}:8:8: pool.max: 70000 is out of range (0..1024)`,
      `${f}:10:46: rules.0.excludePaths.0: unknown path 'lte' (no paths: are configured)`,
    ]);
  });

  it('--client / --aggregator force the role', () => {
    const f = file('forced.yaml', AGGREGATOR);
    expect(runCheckConfig(['--client', f])).toBe(2);
    expect(err).toContain(`${f}:2:1: clients: unknown key 'clients'`);
    expect(err).toContain(`${f}:1:1: aggregator.host: required`);
    err = '';
    expect(runCheckConfig([f, '--aggregator'])).toBe(0);
    expect(runCheckConfig(['--client', '--aggregator', f])).toBe(2);
  });

  it('YAML syntax errors, an undetectable role, an unreadable file, bad arguments: exit 2', () => {
    const broken = file('broken.yaml', 'aggregator:\n  host: [1, 2\n');
    expect(runCheckConfig([broken])).toBe(2);
    expect(err).toMatch(new RegExp(`^${broken.replace(/[.]/g, '\\.')}:3:\\d+: \\(yaml\\): `));
    err = '';
    const neither = file('neither.yaml', 'transport: tcp\n');
    expect(runCheckConfig([neither])).toBe(2);
    expect(err).toContain("cannot tell a client's from an aggregator's configuration");
    err = '';
    expect(runCheckConfig([join(dir, 'missing.yaml')])).toBe(2);
    expect(err).toContain('missing.yaml: cannot read: ENOENT');
    expect(runCheckConfig([])).toBe(2);
    expect(runCheckConfig(['--verbose', neither])).toBe(2);
    expect(runCheckConfig(['--help'])).toBe(0);
    expect(out).toContain('Usage: mptcp-proxy check-config');
  });

  it('detects the role by top-level keys', () => {
    expect(detectRole('clients: []\n')).toBe('aggregator');
    expect(detectRole('aggregator: {}\n')).toBe('client');
    expect(detectRole('aggregator: {}\nclients: []\n')).toBeUndefined();
    expect(detectRole('- a\n')).toBeUndefined();
  });

  const built = join(ROOT, 'dist/proxy/cli/commands/check-config.js');
  it.skipIf(!existsSync(built))('the built CLI: exit 0 for a valid file, 2 with the problems for an invalid one', async () => {
    vi.restoreAllMocks();
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [join(ROOT, 'dist/proxy/cli/main.js'), 'check-config', ...args], (e, stdout, stderr) => resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, stdout, stderr }));
      });
    const good = await run([file('cli-good.yaml', CLIENT)]);
    expect([good.code, good.stdout.trim()]).toEqual([0, `${join(dir, 'cli-good.yaml')}: ok (client)`]);
    const bad = await run([file('cli-bad.yaml', `${CLIENT}pool: { max: -1 }\n`)]);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, `${join(dir, 'cli-bad.yaml')}:6:14: pool.max: -1 is out of range (0..1024)`]);
  });
});
