/**
 * The lab's handle on one running emulator process (emulator/main.ts): starts it inside the
 * emulator namespace, sends commands and matches their replies, and keeps what it reports on its
 * own (throughput samples, state changes, errors). Stopping closes its stdin (it exits) and
 * kills it if it lingers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { encodeJson, type PathState } from './link-config.js';
import { emulatorArgs, type EmulatorOptions } from './emulator/main.js';
import { parseEvent, type EmulatorCommand, type EmulatorEvent, type EmulatorStats } from './emulator/protocol.js';

export type Sample = Extract<EmulatorEvent, { ev: 'sample' }>;
type CommandBody = EmulatorCommand extends infer C ? (C extends EmulatorCommand ? Omit<C, 'id'> : never) : never;

export class EmulatorProcess {
  readonly samples: Sample[] = [];
  readonly states: { t: number; state: PathState }[] = [];
  readonly errors: string[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (e: EmulatorEvent) => void; reject: (e: Error) => void }>();
  private stderr = '';

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {}

  /** Starts an emulator in namespace `ns` and waits until it is forwarding. */
  static async start(ns: string, entry: string, opts: EmulatorOptions): Promise<EmulatorProcess> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, entry, ...emulatorArgs(opts)], { stdio: ['pipe', 'pipe', 'pipe'], env: process.env });
    const e = new EmulatorProcess(opts.name, child);
    await e.attach();
    return e;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private attach(): Promise<void> {
    const child = this.child;
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`emulator ${this.name} did not start: ${this.stderr}`)), 20_000);
      child.on('exit', (code, sig) => {
        clearTimeout(timer);
        const err = new Error(`emulator ${this.name} exited (${code ?? sig}): ${this.stderr}`);
        reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      });
      if (child.stdout === null) return;
      createInterface({ input: child.stdout }).on('line', (line) => {
        const e = parseEvent(line);
        if (e === undefined) return;
        switch (e.ev) {
          case 'ready':
            clearTimeout(timer);
            resolve();
            break;
          case 'sample':
            this.samples.push(e);
            break;
          case 'state':
            this.states.push({ t: e.t, state: e.state });
            break;
          case 'error': {
            const w = e.id === null ? undefined : this.waiting.get(e.id);
            if (w !== undefined && e.id !== null) {
              this.waiting.delete(e.id);
              w.reject(new Error(`emulator ${this.name}: ${e.message}`));
            } else {
              this.errors.push(e.message);
            }
            break;
          }
          case 'ok':
          case 'stats': {
            const w = this.waiting.get(e.id);
            this.waiting.delete(e.id);
            w?.resolve(e);
            break;
          }
        }
      });
    });
  }

  /** Sends a command; resolves with its reply (ok or stats), rejects on its error. */
  request(body: CommandBody): Promise<EmulatorEvent> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.child.stdin === null || this.child.exitCode !== null) {
        reject(new Error(`emulator ${this.name} is not running`));
        return;
      }
      this.waiting.set(id, { resolve, reject });
      this.child.stdin.write(`${encodeJson({ ...body, id })}\n`);
    });
  }

  async stats(): Promise<EmulatorStats> {
    const e = await this.request({ cmd: 'stats' });
    if (e.ev !== 'stats') throw new Error(`emulator ${this.name}: expected stats, got ${e.ev}`);
    return e.stats;
  }

  /** Closes stdin (the emulator exits) and waits; SIGKILL after 2 s. */
  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    c.stdin?.end();
    const t = setTimeout(() => c.kill('SIGKILL'), 2000);
    await done;
    clearTimeout(t);
  }

  /** For exit hooks: kill at once. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
