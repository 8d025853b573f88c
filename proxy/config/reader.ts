/**
 * A small typed reader over a parsed YAML document that collects every problem instead of
 * stopping at the first: each issue names its path (e.g. `aggregator.port`) and, when the
 * node exists in the file, its line and column. The client and aggregator loaders are built
 * on it; the full schema (issue 6) can extend it.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';

export interface ConfigIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${issues.map((i) => `  ${file}${i.line !== undefined ? `:${i.line}:${i.column ?? 1}` : ''}: ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Path = (string | number)[];

export class ConfigReader {
  readonly issues: ConfigIssue[] = [];
  private readonly doc: Document;
  private readonly lines: LineCounter;
  private readonly root: unknown;
  private readonly seen = new Set<string>();

  constructor(text: string) {
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) {
      const pos = this.lines.linePos(e.pos[0]);
      this.issues.push({ path: '(yaml)', message: e.message.split('\n')[0], line: pos.line, column: pos.col });
    }
    const js: unknown = this.doc.errors.length === 0 ? this.doc.toJS() : {};
    this.root = js ?? {};
  }

  problem(path: Path, message: string): void {
    const node: unknown = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    const where = range !== undefined ? this.lines.linePos(range[0]) : undefined;
    this.issues.push({ path: path.join('.') || '(root)', message, ...(where ? { line: where.line, column: where.col } : {}) });
  }

  /** The raw value at `path` (undefined when absent); marks the key as known. */
  value(path: Path): unknown {
    this.seen.add(path.join('.'));
    let v: unknown = this.root;
    for (const k of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string | number, unknown>)[k];
    }
    return v;
  }

  string(path: Path, dflt?: string): string | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (dflt === undefined) this.problem(path, 'required');
      return dflt;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.problem(path, 'must be a string');
      return dflt;
    }
    return String(v);
  }

  optionalString(path: Path): string | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.problem(path, 'must be a string');
      return undefined;
    }
    return String(v);
  }

  number(path: Path, dflt: number, min: number, max: number, integer = true): number {
    const v = this.value(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      this.problem(path, `must be ${integer ? 'an integer' : 'a number'}`);
      return dflt;
    }
    if (v < min || v > max) {
      this.problem(path, `must be between ${min} and ${max}`);
      return dflt;
    }
    return v;
  }

  boolean(path: Path, dflt: boolean): boolean {
    const v = this.value(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') {
      this.problem(path, 'must be true or false');
      return dflt;
    }
    return v;
  }

  oneOf<T extends string>(path: Path, options: readonly T[], dflt: T): T {
    const v = this.value(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
      this.problem(path, `must be one of: ${options.join(', ')}`);
      return dflt;
    }
    return v as T;
  }

  /** A list (a single scalar counts as a one-element list); length of it for iteration. */
  listLength(path: Path): number {
    const v = this.value(path);
    if (v === undefined || v === null) return 0;
    if (!Array.isArray(v)) {
      this.problem(path, 'must be a list');
      return 0;
    }
    return v.length;
  }

  /** Reports keys present in the file but never read (typos). */
  checkUnknownKeys(): void {
    const walk = (node: unknown, path: Path) => {
      if (!isMap(node)) return;
      for (const item of node.items) {
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        const p = [...path, key];
        if (!this.isKnown(p)) this.problem(p, 'unknown key');
        else walk(item.value, p);
      }
    };
    walk(this.doc.contents, []);
  }

  private isKnown(p: Path): boolean {
    const s = p.join('.');
    return [...this.seen].some((k) => k.startsWith(`${s}.`) || k === s);
  }
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
  if (!Number.isInteger(p) || p < 0 || p > 65535) return `bad port in '${text}'`;
  return { host, port: p };
}
