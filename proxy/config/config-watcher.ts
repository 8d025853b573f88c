/**
 * Reloading a configuration file while the program runs. ConfigWatcher watches the file's
 * directory (so an editor that writes a new file and renames it over the old one is seen, as
 * is an in-place rewrite), waits for the writes to settle (debounce, 200 ms by default), then
 * re-reads and parses the file: a configuration equal to the running one changes nothing, a
 * new one goes to `apply(next, previous)`, and one that cannot be read or parsed goes to
 * `reject(error)` while the running one stays. `reload()` does the same at once (SIGHUP);
 * reloads never overlap.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected';

export interface ConfigWatcherOptions<T> {
  file: string;
  /** The configuration running now (as loaded at start). */
  initial: T;
  /** Parses the file's text; throws (a ConfigError) when it is invalid. */
  parse: (text: string, file: string) => T;
  apply: (next: T, previous: T) => void;
  reject: (error: unknown) => void;
  /** Quiet time after the last change before reloading (default 200 ms). */
  debounceMs?: number;
  /** Reads the file (default: fs/promises readFile, utf8). */
  read?: (file: string) => Promise<string>;
}

export class ConfigWatcher<T> {
  private current: T;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The text last refused: the same text again (another event for one write) is not reported twice. */
  private refusedText: string | undefined;
  private running: Promise<ReloadOutcome> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly opts: ConfigWatcherOptions<T>) {
    this.current = opts.initial;
  }

  /** The configuration applied last. */
  get config(): T {
    return this.current;
  }

  /** Starts watching the file's directory. */
  start(): void {
    if (this.watcher !== undefined || this.closed) return;
    const path = resolve(this.opts.file);
    const name = basename(path);
    this.watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name) this.schedule();
    });
    this.watcher.on('error', (e) => this.opts.reject(e));
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.timer);
  }

  /** Re-reads the file now (SIGHUP); reports again even when the text was refused before. */
  reload(): Promise<ReloadOutcome> {
    this.refusedText = undefined;
    return this.run();
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), this.opts.debounceMs ?? 200);
  }

  /** One reload at a time; a request during one runs once more after it. */
  private run(): Promise<ReloadOutcome> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = this.once().finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.run();
      }
    });
    return this.running;
  }

  private async once(): Promise<ReloadOutcome> {
    let text: string;
    try {
      text = await (this.opts.read ?? ((f: string) => readFile(f, 'utf8')))(this.opts.file);
    } catch (e) {
      this.opts.reject(new Error(`${this.opts.file}: cannot read: ${e instanceof Error ? e.message : String(e)}`));
      return 'rejected';
    }
    if (this.closed) return 'unchanged';
    if (text === this.refusedText) return 'rejected';
    let next: T;
    try {
      next = this.opts.parse(text, this.opts.file);
    } catch (e) {
      this.refusedText = text;
      this.opts.reject(e);
      return 'rejected';
    }
    this.refusedText = undefined;
    if (isDeepStrictEqual(next, this.current)) return 'unchanged';
    const previous = this.current;
    this.current = next;
    try {
      this.opts.apply(next, previous);
    } catch (e) {
      this.opts.reject(e);
    }
    return 'applied';
  }
}
