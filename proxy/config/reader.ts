/**
 * A typed reader over a parsed YAML document that collects every problem instead of stopping
 * at the first. Each issue names its path (e.g. `aggregator.port`), its line and column (the
 * value's; for an unknown key the key's; for a missing key its nearest present parent's), and
 * its message quotes the offending value and says what is allowed. Unknown keys (typos) get
 * the nearest known key as a suggestion. Secrets may come from the environment or a file
 * through an injected ConfigEnvironment, so parsing stays pure for tests. The client and
 * aggregator loaders are built on it.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { describeValue, nearest } from './units.js';

export interface ConfigIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** `FILE:LINE:COL: path: message` (or `FILE: path: message` without a position). */
export function formatIssue(file: string, i: ConfigIssue): string {
  return `${file}${i.line !== undefined ? `:${i.line}:${i.column ?? 1}` : ''}: ${i.path}: ${i.message}`;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${issues.map((i) => `  ${formatIssue(file, i)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Where secrets given as `{ env: NAME }` or `{ file: PATH }` are read from. */
export interface ConfigEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  /** The file's text; throws (with a Node error code) when it cannot be read. */
  readFile: (path: string) => string;
}

/** The real environment: process.env and the file system. */
export function processEnvironment(): ConfigEnvironment {
  return { env: process.env, readFile: (p) => readFileSync(p, 'utf8') };
}

export type ConfigPath = (string | number)[];

const SECRET_FORMS = "a string, { env: NAME } or { file: PATH }";

export class ConfigReader {
  readonly issues: ConfigIssue[] = [];
  private readonly doc: Document;
  private readonly lines: LineCounter;
  private readonly root: unknown;
  private readonly seen = new Set<string>();
  private readonly baseDir: string;

  /** `file` only places relative secret files (next to the configuration). */
  constructor(
    text: string,
    private readonly environment: ConfigEnvironment = processEnvironment(),
    file?: string,
  ) {
    this.baseDir = file !== undefined ? dirname(resolve(file)) : process.cwd();
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) {
      const pos = this.lines.linePos(e.pos[0]);
      this.issues.push({ path: '(yaml)', message: e.message.split('\n')[0], line: pos.line, column: pos.col });
    }
    const js: unknown = this.doc.errors.length === 0 ? this.doc.toJS() : {};
    const root = js ?? {};
    this.root = root;
    if (this.doc.errors.length === 0 && (typeof root !== 'object' || Array.isArray(root))) this.problem([], `the file must be a map of settings, not ${describeValue(root)}`);
  }

  /** YAML syntax errors were found (nothing else is worth reporting then). */
  get syntaxBroken(): boolean {
    return this.doc.errors.length > 0;
  }

  /** A problem with the value at `path` (placed at the value, or its nearest present parent). */
  problem(path: ConfigPath, message: string): void {
    this.push(path, message, this.position(path, 'value'));
  }

  /** A problem with the key itself (placed at the key). */
  keyProblem(path: ConfigPath, message: string): void {
    this.push(path, message, this.position(path, 'key'));
  }

  /** The raw value at `path` (undefined when absent); marks the key as known. */
  value(path: ConfigPath): unknown {
    this.seen.add(path.join('.'));
    let v: unknown = this.root;
    for (const k of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string | number, unknown>)[k];
    }
    return v;
  }

  /** Whether the value at `path` is a map (marks the key as known). */
  isMap(path: ConfigPath): boolean {
    const v = this.value(path);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  /** Whether a map is at `path`; something else there is reported. */
  section(path: ConfigPath): boolean {
    const v = this.value(path);
    if (v === undefined || v === null) return false;
    if (typeof v === 'object' && !Array.isArray(v)) return true;
    this.problem(path, `expected a map, got ${describeValue(v)}`);
    return false;
  }

  string(path: ConfigPath, dflt?: string): string | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (dflt === undefined) this.problem(path, 'required');
      return dflt;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.problem(path, `expected a string, got ${describeValue(v)}`);
      return dflt;
    }
    return String(v);
  }

  optionalString(path: ConfigPath): string | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.problem(path, `expected a string, got ${describeValue(v)}`);
      return undefined;
    }
    return String(v);
  }

  number(path: ConfigPath, dflt: number, min: number, max: number, integer = true): number {
    return this.optionalNumber(path, min, max, integer) ?? dflt;
  }

  optionalNumber(path: ConfigPath, min: number, max: number, integer = true): number | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) return undefined;
    const range = `${min}..${max}`;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.problem(path, `${describeValue(v)} is not a number (allowed: ${integer ? 'an integer ' : ''}${range})`);
      return undefined;
    }
    if (integer && !Number.isInteger(v)) {
      this.problem(path, `${v} is not an integer (allowed: ${range})`);
      return undefined;
    }
    if (v < min || v > max) {
      this.problem(path, `${v} is out of range (${range})`);
      return undefined;
    }
    return v;
  }

  /** A number written with a unit ("20mbit", "30GB", "25s"), by `parse`, within min..max base units. */
  quantity(path: ConfigPath, parse: (v: unknown) => number | string, min: number, max: number, unit: string): number | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) return undefined;
    const n = parse(v);
    if (typeof n === 'string') {
      this.problem(path, `${describeValue(v)}: ${n}`);
      return undefined;
    }
    if (n < min || n > max) {
      this.problem(path, `${describeValue(v)} is out of range (${min}..${max} ${unit})`);
      return undefined;
    }
    return n;
  }

  boolean(path: ConfigPath, dflt: boolean): boolean {
    const v = this.value(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') {
      this.problem(path, `${describeValue(v)} is not true or false`);
      return dflt;
    }
    return v;
  }

  oneOf<T extends string>(path: ConfigPath, options: readonly T[], dflt: T): T {
    return this.optionalOneOf(path, options) ?? dflt;
  }

  optionalOneOf<T extends string>(path: ConfigPath, options: readonly T[]): T | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
      const guess = typeof v === 'string' ? nearest(v, options) : undefined;
      this.problem(path, `${describeValue(v)} is not one of: ${options.join(', ')}${guess !== undefined ? ` (did you mean '${guess}'?)` : ''}`);
      return undefined;
    }
    return v as T;
  }

  /** The length of the list at `path` (0 when absent, or not a list: reported). */
  listLength(path: ConfigPath): number {
    const v = this.value(path);
    if (v === undefined || v === null) return 0;
    if (!Array.isArray(v)) {
      this.problem(path, `expected a list, got ${describeValue(v)}`);
      return 0;
    }
    return v.length;
  }

  /**
   * A secret: a string, `{ env: NAME }` (the environment variable) or `{ file: PATH }` (the
   * file's content without one trailing newline; relative to the configuration's folder).
   * Undefined when absent (reported when `required`) or unusable (reported). Messages never
   * quote a secret.
   */
  secret(path: ConfigPath, required = true): string | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (required) this.problem(path, `required (${SECRET_FORMS})`);
      return undefined;
    }
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.problem(path, `expected ${SECRET_FORMS}, got ${describeValue(v)}`);
      return undefined;
    }
    const envName = this.optionalString([...path, 'env']);
    const file = this.optionalString([...path, 'file']);
    if ((envName === undefined) === (file === undefined)) {
      this.problem(path, `expected ${SECRET_FORMS} (exactly one of env and file)`);
      return undefined;
    }
    if (envName !== undefined) {
      const value = this.environment.env[envName];
      if (value === undefined) this.problem([...path, 'env'], `environment variable '${envName}' is not set`);
      else if (value === '') this.problem([...path, 'env'], `environment variable '${envName}' is empty`);
      else return value;
      return undefined;
    }
    const at = isAbsolute(file ?? '') ? (file ?? '') : resolve(this.baseDir, file ?? '');
    let text: string;
    try {
      text = this.environment.readFile(at);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : e instanceof Error ? e.message : String(e);
      this.problem([...path, 'file'], `cannot read '${file ?? ''}': ${why}`);
      return undefined;
    }
    const secret = text.replace(/\r?\n$/, '');
    if (secret === '') {
      this.problem([...path, 'file'], `'${file ?? ''}' is empty`);
      return undefined;
    }
    return secret;
  }

  /**
   * Reports keys present in the file but never read (typos), at the key, with the nearest
   * known key as a suggestion. `removed`: keys that once existed, by path, and what to do.
   */
  checkUnknownKeys(removed: Readonly<Record<string, string>> = {}): void {
    const walk = (node: unknown, path: ConfigPath) => {
      if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
      if (!isMap(node)) return;
      for (const item of node.items) {
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        const p = [...path, key];
        const s = p.join('.');
        if (this.seen.has(s) || this.readBelow(s)) {
          if (this.readBelow(s)) walk(item.value, p);
          continue;
        }
        const hint = removed[s];
        if (hint !== undefined) {
          this.keyProblem(p, hint);
          continue;
        }
        const known = this.knownKeys(path);
        const guess = nearest(key, known);
        const help = guess !== undefined ? ` (did you mean '${guess}'?)` : known.length > 0 ? ` (allowed here: ${known.join(', ')})` : '';
        this.keyProblem(p, `unknown key '${key}'${help}`);
      }
    };
    walk(this.doc.contents, []);
  }

  /** Throws a ConfigError with every issue (sorted by position) when there is any. */
  finish(file: string): void {
    if (this.issues.length === 0) return;
    const at = (i: ConfigIssue) => (i.line ?? 0) * 1e6 + (i.column ?? 0);
    throw new ConfigError(file, [...this.issues].sort((a, b) => at(a) - at(b)));
  }

  private push(path: ConfigPath, message: string, where: { line: number; col: number } | undefined): void {
    this.issues.push({ path: path.join('.') || '(root)', message, ...(where ? { line: where.line, column: where.col } : {}) });
  }

  /** Some key below `s` was read: `s` is a map or list the schema looks into. */
  private readBelow(s: string): boolean {
    const prefix = `${s}.`;
    for (const k of this.seen) if (k.startsWith(prefix)) return true;
    return false;
  }

  /** Keys the schema read directly under `path` (the allowed keys of that map). */
  private knownKeys(path: ConfigPath): string[] {
    const prefix = path.length === 0 ? '' : `${path.join('.')}.`;
    const out = new Set<string>();
    for (const k of this.seen) {
      if (!k.startsWith(prefix) || k.length === prefix.length) continue;
      const next = k.slice(prefix.length).split('.')[0];
      if (!/^\d+$/.test(next)) out.add(next);
    }
    return [...out].sort();
  }

  private position(path: ConfigPath, at: 'value' | 'key'): { line: number; col: number } | undefined {
    if (at === 'value') {
      const node: unknown = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
      const start = rangeStart(node);
      if (start !== undefined && !(isScalar(node) && node.value === null)) return this.lines.linePos(start);
    }
    // The key itself, else the nearest present parent's key.
    for (let n = path.length; n > 0; n--) {
      const start = this.keyStart(path.slice(0, n));
      if (start !== undefined) return this.lines.linePos(start);
    }
    const start = rangeStart(this.doc.contents);
    return start !== undefined ? this.lines.linePos(start) : { line: 1, col: 1 };
  }

  private keyStart(path: ConfigPath): number | undefined {
    const parent: unknown = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    if (isMap(parent)) {
      const item = parent.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(last));
      return item !== undefined ? rangeStart(item.key) : undefined;
    }
    if (isSeq(parent) && typeof last === 'number') return rangeStart(parent.items[last]);
    return undefined;
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}

/** "host:port", "[v6]:port" or ":port"/"port" (host `defaultHost`). */
export function parseEndpointText(text: string, defaultHost: string): { host: string; port: number } | string {
  const t = text.trim();
  let host: string;
  let port: string;
  const m6 = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (m6) [host, port] = [m6[1], m6[2]];
  else if (/^\d+$/.test(t)) [host, port] = [defaultHost, t];
  else {
    const c = t.lastIndexOf(':');
    if (c < 0 || t.indexOf(':') !== c) return `'${text}' is not host:port (IPv6 in brackets)`;
    [host, port] = [t.slice(0, c) || defaultHost, t.slice(c + 1)];
  }
  const p = Number(port);
  if (!Number.isInteger(p) || p < 0 || p > 65535) return `bad port in '${text}' (allowed: 0..65535)`;
  return { host, port: p };
}
