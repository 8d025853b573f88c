/**
 * Network namespaces of lab runs: naming, creation, running commands inside, and teardown that
 * survives crashes. Every lab's namespaces are named `lab<pid>x<n>-<host>`, where pid is the
 * owning process; a record in /run/mptcp-lab/ keeps that process's start time, so a later run
 * can tell a live owner from a dead one (or a reused pid) and remove what a dead run left
 * behind (`cleanupStaleLabs`, called by every Lab.up), killing the processes still inside.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_DIR = '/run/mptcp-lab';
const NAME = /^lab(\d+)x(\d+)-[a-z]+$/;

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command synchronously; throws with its stderr when it fails. */
export function run(cmd: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(err.stderr ?? '').trim() || err.message}`, { cause: e });
  }
}

/** Runs a command asynchronously; never rejects for a non-zero exit (see `code`). */
export function runAsync(cmd: string, args: readonly string[], timeoutMs = 0): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ stdout, stderr: err !== null && stderr === '' ? err.message : stderr, code });
    });
  });
}

/** The start time of a process (clock ticks since boot), or undefined when it does not exist. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let counter = 0;

/** A fresh prefix for this process's next lab, recorded so other runs know its owner lives. */
export function claimPrefix(): string {
  const prefix = `lab${process.pid}x${counter++}`;
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(join(STATE_DIR, `${prefix}.json`), JSON.stringify({ pid: process.pid, start: startTime(process.pid) }));
  return prefix;
}

export function releasePrefix(prefix: string): void {
  rmSync(join(STATE_DIR, `${prefix}.json`), { force: true });
}

export function listNamespaces(): string[] {
  return run('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n !== '');
}

/** Kills every process inside `ns`, then deletes it. Never throws. */
export function destroyNamespace(ns: string): void {
  try {
    for (const pid of run('ip', ['netns', 'pids', ns]).split('\n').filter((p) => p !== '')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  } catch {
    // no such namespace
  }
  try {
    run('ip', ['netns', 'del', ns]);
  } catch {
    // not there
  }
}

function ownerAlive(prefix: string, pid: number): boolean {
  const now = startTime(pid);
  if (now === undefined) return false;
  const record = join(STATE_DIR, `${prefix}.json`);
  if (!existsSync(record)) return true; // cannot tell: leave it
  try {
    const r = JSON.parse(readFileSync(record, 'utf8')) as { start?: string };
    return r.start === undefined || r.start === now;
  } catch {
    return true;
  }
}

/** Removes the namespaces (and records) of lab runs whose process is gone. Returns the names removed. */
export function cleanupStaleLabs(): string[] {
  const removed: string[] = [];
  const live = new Set<string>();
  for (const ns of listNamespaces()) {
    const m = NAME.exec(ns);
    if (m === null) continue;
    const prefix = `lab${m[1]}x${m[2]}`;
    if (ownerAlive(prefix, Number(m[1]))) {
      live.add(prefix);
      continue;
    }
    destroyNamespace(ns);
    removed.push(ns);
  }
  if (existsSync(STATE_DIR)) {
    for (const f of readdirSync(STATE_DIR)) {
      const prefix = f.replace(/\.json$/, '');
      const m = /^lab(\d+)x\d+$/.exec(prefix);
      if (m !== null && !live.has(prefix) && !ownerAlive(prefix, Number(m[1]))) rmSync(join(STATE_DIR, f), { force: true });
    }
  }
  return removed;
}
