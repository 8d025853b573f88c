/**
 * ConfigWatcher on a real directory: a file rewritten in place and a file replaced by rename
 * (as editors save) are applied once each after the debounce; an invalid file is refused and
 * the running configuration kept; unchanged content does nothing; reload() (what SIGHUP
 * calls, through onReloadSignal) re-reads at once; close() stops watching.
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { onReloadSignal } from '../../../proxy/cli/commands/proxy-args.js';
import { ConfigWatcher } from '../../../proxy/config/config-watcher.js';

interface Cfg {
  value: number;
}
/** "value: N" is valid; anything else throws. */
function parse(text: string): Cfg {
  const m = /^value: (\d+)\n?$/.exec(text);
  if (m === null) throw new Error(`invalid: ${JSON.stringify(text)}`);
  return { value: Number(m[1]) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

let watcher: ConfigWatcher<Cfg> | undefined;
afterEach(() => watcher?.close());

function setup(debounceMs = 100) {
  const dir = mkdtempSync(join(tmpdir(), 'config-watch-'));
  const file = join(dir, 'proxy.yaml');
  writeFileSync(file, 'value: 1\n');
  const applied: [number, number][] = [];
  const rejected: string[] = [];
  const w = new ConfigWatcher<Cfg>({
    file,
    initial: parse('value: 1\n'),
    parse,
    apply: (next, previous) => applied.push([previous.value, next.value]),
    reject: (e) => rejected.push(e instanceof Error ? e.message : String(e)),
    debounceMs,
  });
  watcher = w;
  w.start();
  return { dir, file, applied, rejected, w };
}

describe('ConfigWatcher', () => {
  it('applies a file rewritten in place, once per burst of writes', async () => {
    const { file, applied, rejected, w } = setup();
    writeFileSync(file, 'value: 2\n');
    writeFileSync(file, 'value: 3\n');
    await until(() => applied.length > 0);
    await sleep(300);
    expect(applied).toEqual([[1, 3]]);
    expect(rejected).toEqual([]);
    expect(w.config).toEqual({ value: 3 });
  });

  it('applies a file replaced by rename (how editors save), and ignores other files in the folder', async () => {
    const { dir, file, applied, w } = setup();
    writeFileSync(join(dir, 'other.yaml'), 'value: 99\n');
    await sleep(300);
    expect(applied).toEqual([]);
    const tmp = join(dir, '.proxy.yaml.swp');
    writeFileSync(tmp, 'value: 7\n');
    renameSync(tmp, file);
    await until(() => applied.length > 0);
    expect(applied).toEqual([[1, 7]]);
    // The new inode is watched too (the directory is): a second save is seen.
    writeFileSync(tmp, 'value: 8\n');
    renameSync(tmp, file);
    await until(() => applied.length > 1);
    expect(applied).toEqual([
      [1, 7],
      [7, 8],
    ]);
    expect(w.config.value).toBe(8);
  });

  it('refuses an invalid file once, keeps the running configuration, and applies the next valid one', async () => {
    const { file, applied, rejected, w } = setup();
    writeFileSync(file, 'value: many\n');
    await until(() => rejected.length > 0);
    expect(rejected).toEqual(['invalid: "value: many\\n"']);
    expect(w.config.value).toBe(1);
    writeFileSync(file, 'value: many\n'); // the same text again: not reported twice
    await sleep(300);
    expect(rejected).toHaveLength(1);
    writeFileSync(file, 'value: 5\n');
    await until(() => applied.length > 0);
    expect(applied).toEqual([[1, 5]]);
  });

  it('unchanged content does nothing; a vanished file is refused', async () => {
    const { file, applied, rejected, w } = setup();
    writeFileSync(file, 'value: 1\n');
    await sleep(300);
    expect(applied).toEqual([]);
    expect(await w.reload()).toBe('unchanged');
    const { rmSync } = await import('node:fs');
    rmSync(file);
    await until(() => rejected.length > 0);
    expect(rejected[0]).toMatch(/proxy\.yaml: cannot read: ENOENT/);
    expect(w.config.value).toBe(1);
  });

  it('reload() (SIGHUP) re-reads at once, reports an invalid file again, and a signal triggers it', async () => {
    const { file, applied, rejected, w } = setup(10_000); // the watcher alone would wait 10 s
    writeFileSync(file, 'value: 4\n');
    expect(await w.reload()).toBe('applied');
    expect(applied).toEqual([[1, 4]]);
    writeFileSync(file, 'nonsense\n');
    expect(await w.reload()).toBe('rejected');
    expect(await w.reload()).toBe('rejected');
    expect(rejected).toHaveLength(2);
    writeFileSync(file, 'value: 6\n');
    const stop = onReloadSignal(() => void w.reload());
    try {
      process.emit('SIGHUP', 'SIGHUP');
      await until(() => applied.length > 1);
    } finally {
      stop();
    }
    expect(applied).toEqual([
      [1, 4],
      [4, 6],
    ]);
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });

  it('close() stops watching', async () => {
    const { file, applied, w } = setup();
    w.close();
    writeFileSync(file, 'value: 2\n');
    await sleep(300);
    expect(applied).toEqual([]);
  });
});
