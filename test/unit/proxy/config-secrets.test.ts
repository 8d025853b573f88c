/**
 * Secrets from the environment or files in client.yaml (aggregator.secret, auth.password) and
 * aggregator.yaml (clients[].secret): an injected environment keeps parsing pure; the real
 * file system for `{ file }` (one trailing newline trimmed, relative to the config's folder);
 * missing variables and unreadable files are problems with their line and column.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAggregatorConfig } from '../../../proxy/config/aggregator-config.js';
import { parseClientConfig } from '../../../proxy/config/client-config.js';
import { processEnvironment, type ConfigEnvironment } from '../../../proxy/config/reader.js';
import { configProblems } from '../../support/config-problems.js';

const FP = 'ab'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'config-secrets-'));
const fileEnv = (env: Record<string, string>): ConfigEnvironment => ({ env, readFile: processEnvironment().readFile });

const problems = configProblems;

describe('secrets in client.yaml', () => {
  const yaml = (secret: string, password: string) => `aggregator:\n  host: h\n  fingerprint: ${FP}\n  clientId: me\n  secret: ${secret}\nauth:\n  username: me\n  password: ${password}\n`;

  it('from an environment variable and from a file (one trailing newline trimmed)', () => {
    const file = join(dir, 'client.secret');
    writeFileSync(file, 'a secret from a file, long enough\n\n');
    const c = parseClientConfig(yaml(`{ file: ${file} }`, '{ env: PROXY_PASSWORD }'), 'client.yaml', fileEnv({ PROXY_PASSWORD: 'local pass' }));
    expect(c.aggregator.secret).toBe('a secret from a file, long enough\n');
    expect(c.auth).toEqual({ username: 'me', password: 'local pass' });
    writeFileSync(file, 'windows line end secret!!\r\n');
    expect(parseClientConfig(yaml(`{ file: ${file} }`, 'plain'), 'client.yaml', fileEnv({})).aggregator.secret).toBe('windows line end secret!!');
  });

  it('a relative file is read next to the configuration file', () => {
    writeFileSync(join(dir, 'relative.secret'), 'relative secret text 123');
    const c = parseClientConfig(yaml('{ file: relative.secret }', 'x'), join(dir, 'client.yaml'), fileEnv({}));
    expect(c.aggregator.secret).toBe('relative secret text 123');
  });

  it('is injectable: no process environment or file system needed', () => {
    const env: ConfigEnvironment = { env: { S: 'injected secret value!' }, readFile: (p) => (p === '/run/secrets/pw' ? 'pw\n' : '') };
    const c = parseClientConfig(yaml('{ env: S }', '{ file: /run/secrets/pw }'), 'client.yaml', env);
    expect([c.aggregator.secret, c.auth?.password]).toEqual(['injected secret value!', 'pw']);
  });

  it('missing variable, empty variable, unreadable or empty file, both or neither form: problems at line:column', () => {
    const env = fileEnv({ EMPTY: '' });
    expect(problems(() => parseClientConfig(yaml('{ env: NOT_SET }', '{ file: /no/such/file }'), 'client.yaml', env))).toEqual([
      "5:18 aggregator.secret.env: environment variable 'NOT_SET' is not set",
      "8:21 auth.password.file: cannot read '/no/such/file': no such file",
    ]);
    writeFileSync(join(dir, 'empty.secret'), '\n');
    expect(problems(() => parseClientConfig(yaml('{ env: EMPTY }', `{ file: ${join(dir, 'empty.secret')} }`), 'client.yaml', env))).toEqual([
      "5:18 aggregator.secret.env: environment variable 'EMPTY' is empty",
      `8:21 auth.password.file: '${join(dir, 'empty.secret')}' is empty`,
    ]);
    expect(problems(() => parseClientConfig(yaml('{ env: A, file: /x }', '{ vault: x }'), 'client.yaml', env))).toEqual([
      '5:11 aggregator.secret: expected a string, { env: NAME } or { file: PATH } (exactly one of env and file)',
      '8:13 auth.password: expected a string, { env: NAME } or { file: PATH } (exactly one of env and file)',
      "8:15 auth.password.vault: unknown key 'vault' (allowed here: env, file)",
    ]);
    expect(problems(() => parseClientConfig(yaml(`{ file: ${dir} }`, '[a]'), 'client.yaml', env))).toEqual([
      `5:19 aggregator.secret.file: cannot read '${dir}': it is a directory`,
      "8:13 auth.password: expected a string, { env: NAME } or { file: PATH }, got a list",
    ]);
  });

  it('a short secret from the environment is reported without showing it', () => {
    const found = problems(() => parseClientConfig(yaml('{ env: SHORT }', 'x'), 'client.yaml', fileEnv({ SHORT: 'hunter2' })));
    expect(found).toEqual(['5:11 aggregator.secret: must be at least 16 characters (it has 7)']);
    expect(found.join()).not.toContain('hunter2');
  });
});

describe('secrets in aggregator.yaml', () => {
  it('each client secret may come from the environment or a file', () => {
    const file = join(dir, 'phone.secret');
    writeFileSync(file, 'the phone secret, 24 chars\n');
    const text = `clients:\n  - { id: laptop, secret: "a literal secret, long enough" }\n  - { id: router, secret: { env: ROUTER_SECRET } }\n  - id: phone\n    secret: { file: ${file} }\n`;
    const a = parseAggregatorConfig(text, 'aggregator.yaml', fileEnv({ ROUTER_SECRET: 'router secret from env' }));
    expect(a.clients).toEqual([
      { id: 'laptop', secret: 'a literal secret, long enough' },
      { id: 'router', secret: 'router secret from env' },
      { id: 'phone', secret: 'the phone secret, 24 chars' },
    ]);
    expect(problems(() => parseAggregatorConfig(text, 'aggregator.yaml', fileEnv({})))).toEqual(["3:34 clients.1.secret.env: environment variable 'ROUTER_SECRET' is not set"]);
  });
});
