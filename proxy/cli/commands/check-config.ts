/**
 * `mptcp-proxy check-config [--client|--aggregator] FILE`: validates a configuration file
 * without starting anything (no root, no network). The role comes from the flag, else from
 * the file's keys (`clients:` is an aggregator's, `aggregator:` a client's). Prints
 * "FILE: ok (client)" and exits 0, or every problem, one per line as
 * `FILE:LINE:COL: path: message`, and exits 2. Secrets given as { env } or { file } are
 * resolved in this process's environment.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, parseDocument } from 'yaml';
import { parseAggregatorConfig } from '../../config/aggregator-config.js';
import { parseClientConfig } from '../../config/client-config.js';
import { ConfigError, formatIssue, processEnvironment, type ConfigEnvironment } from '../../config/reader.js';

const USAGE = `Usage: mptcp-proxy check-config [--client | --aggregator] FILE

Checks a client or aggregator configuration file and prints every problem with its line and
column. Exit status 0 when the file is valid, 2 when it is not (or cannot be read).`;

export type ConfigRole = 'client' | 'aggregator';

/** The role a configuration text is for, by its top-level keys; undefined when it cannot tell. */
export function detectRole(text: string): ConfigRole | undefined {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) return undefined;
  const keys = new Set(doc.contents.items.map((i) => (isScalar(i.key) ? String(i.key.value) : '')));
  if (keys.has('clients') && !keys.has('aggregator')) return 'aggregator';
  if (keys.has('aggregator') && !keys.has('clients')) return 'client';
  return undefined;
}

/** Checks one file; `out` gets the ok line, `err` the problems. Returns the exit status. */
export function checkConfigFile(file: string, role: ConfigRole | undefined, out: (line: string) => void, err: (line: string) => void, environment: ConfigEnvironment = processEnvironment()): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    err(`${file}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  const as = role ?? detectRole(text);
  if (as === undefined) {
    // Parse as a client to report YAML errors if there are any; else say what is missing.
    try {
      parseClientConfig(text, file, environment);
    } catch (e) {
      if (e instanceof ConfigError && e.issues.some((i) => i.path === '(yaml)')) {
        for (const i of e.issues) err(formatIssue(file, i));
        return 2;
      }
    }
    err(`${file}: cannot tell a client's from an aggregator's configuration (a client's has aggregator:, an aggregator's has clients:); say --client or --aggregator`);
    return 2;
  }
  try {
    if (as === 'client') parseClientConfig(text, file, environment);
    else parseAggregatorConfig(text, file, environment);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const i of e.issues) err(formatIssue(file, i));
    return 2;
  }
  out(`${file}: ok (${as})`);
  return 0;
}

export function runCheckConfig(args: string[]): number {
  let role: ConfigRole | undefined;
  const files: string[] = [];
  for (const a of args) {
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (a === '--client' || a === '--aggregator') {
      const r = a === '--client' ? 'client' : 'aggregator';
      if (role !== undefined && role !== r) {
        process.stderr.write(`mptcp-proxy check-config: --client and --aggregator exclude each other\n\n${USAGE}\n`);
        return 2;
      }
      role = r;
    } else if (a.startsWith('-')) {
      process.stderr.write(`mptcp-proxy check-config: unknown option '${a}'\n\n${USAGE}\n`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    process.stderr.write(`mptcp-proxy check-config: ${files.length === 0 ? 'a FILE is required' : 'one FILE at a time'}\n\n${USAGE}\n`);
    return 2;
  }
  return checkConfigFile(
    files[0],
    role,
    (l) => process.stdout.write(`${l}\n`),
    (l) => process.stderr.write(`${l}\n`),
  );
}
