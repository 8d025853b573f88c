/**
 * Data caps per path (issue 6 §2: "an LTE link used at most N GB a month except as backup"):
 * one ByteBudget per capped path, shared by every connection (the stack takes from it what
 * the path carries both ways, and ranks the path below every tier once it is spent, telling
 * the aggregator with MP_PRIO). This module owns the periods (day, week from a weekday, month
 * from a day of the month; local time) and the usage saved across restarts in a small JSON
 * file, written atomically every few seconds and on close.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ByteBudget } from '../../mptcp/sched/byte-budget.js';
import type { DataCap, PathConfig } from '../config/policy-types.js';

export interface DataCapUsage {
  path: string;
  usedBytes: number;
  limitBytes: number;
  /** When the current period began (ms since the epoch). */
  periodStart: number;
}

interface Entry {
  cap: DataCap;
  budget: ByteBudget;
  periodStart: number;
  nextPeriod: number;
}

interface SavedState {
  version: 1;
  paths: Record<string, { periodStart: number; usedBytes: number }>;
}

/** Start of the period that contains `now`, and of the next one (local time). */
export function periodBounds(cap: DataCap, now: number): { start: number; next: number } {
  const d = new Date(now);
  if (cap.period === 'day') {
    const start = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    return { start, next: new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() };
  }
  if (cap.period === 'week') {
    const back = (d.getDay() - cap.resetDay + 7) % 7;
    const s = new Date(d.getFullYear(), d.getMonth(), d.getDate() - back);
    return { start: s.getTime(), next: new Date(s.getFullYear(), s.getMonth(), s.getDate() + 7).getTime() };
  }
  const day = Math.min(Math.max(cap.resetDay, 1), 28);
  let s = new Date(d.getFullYear(), d.getMonth(), day);
  if (s.getTime() > now) s = new Date(d.getFullYear(), d.getMonth() - 1, day);
  return { start: s.getTime(), next: new Date(s.getFullYear(), s.getMonth() + 1, day).getTime() };
}

export class DataCaps {
  private readonly entries = new Map<string, Entry>();
  private saved: SavedState = { version: 1, paths: {} };
  private timer: NodeJS.Timeout | null = null;

  /**
   * `file`: where usage is kept across restarts (undefined: not kept). `log` hears about
   * unreadable state and paths reaching their cap.
   */
  constructor(
    private readonly file: string | undefined,
    private readonly log: (line: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
    saveEveryMs = 5000,
  ) {
    if (file) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<SavedState>;
        if (parsed.version === 1 && parsed.paths && typeof parsed.paths === 'object') this.saved = { version: 1, paths: parsed.paths };
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT') this.log(`data caps: cannot read ${file} (${e instanceof Error ? e.message : String(e)}); counting from zero`);
      }
      this.timer = setInterval(() => this.save(), saveEveryMs);
      this.timer.unref();
    }
  }

  /** Takes the configured caps (at start and on every reload); usage so far is kept. */
  configure(paths: readonly PathConfig[]): void {
    const now = this.now();
    const wanted = new Set<string>();
    for (const p of paths) {
      if (!p.dataCap) continue;
      wanted.add(p.name);
      const { start, next } = periodBounds(p.dataCap, now);
      const e = this.entries.get(p.name);
      if (e) {
        e.cap = p.dataCap;
        if (e.periodStart !== start) e.budget.reset(p.dataCap.bytes, 0);
        else e.budget.reset(p.dataCap.bytes, e.budget.used);
        e.periodStart = start;
        e.nextPeriod = next;
        continue;
      }
      const s = this.saved.paths[p.name];
      const used = s && s.periodStart === start && Number.isFinite(s.usedBytes) && s.usedBytes >= 0 ? s.usedBytes : 0;
      this.entries.set(p.name, { cap: p.dataCap, budget: new ByteBudget(p.dataCap.bytes, used), periodStart: start, nextPeriod: next });
    }
    for (const name of [...this.entries.keys()]) if (!wanted.has(name)) this.entries.delete(name);
  }

  /** The budget of a capped path (its period rolled over first if due); undefined when uncapped. */
  budget(path: string): ByteBudget | undefined {
    const e = this.entries.get(path);
    if (!e) return undefined;
    this.rollOver(e);
    return e.budget;
  }

  usage(): DataCapUsage[] {
    const out: DataCapUsage[] = [];
    for (const [path, e] of this.entries) {
      this.rollOver(e);
      out.push({ path, usedBytes: e.budget.used, limitBytes: e.budget.limit, periodStart: e.periodStart });
    }
    return out;
  }

  private rollOver(e: Entry): void {
    const now = this.now();
    if (now < e.nextPeriod) return;
    const { start, next } = periodBounds(e.cap, now);
    e.periodStart = start;
    e.nextPeriod = next;
    e.budget.reset(e.cap.bytes, 0);
  }

  /** Writes the usage now (atomically: a temporary file renamed over the old one). */
  save(): void {
    if (!this.file) return;
    const state: SavedState = { version: 1, paths: { ...this.saved.paths } };
    for (const u of this.usage()) state.paths[u.path] = { periodStart: u.periodStart, usedBytes: u.usedBytes };
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
      this.saved = state;
    } catch (e) {
      this.log(`data caps: cannot save ${this.file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.save();
  }
}
