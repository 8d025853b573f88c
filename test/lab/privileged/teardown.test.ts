// The lab cleans up: down() removes its namespaces and kills what ran in them; namespaces left
// by a run whose process died (or whose pid was reused) are removed by the next Lab.up, while
// those of a live run are kept.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lab } from '../lab.js';
import { STATE_DIR, cleanupStaleLabs, destroyNamespace, listNamespaces } from '../namespaces.js';
import { labSkipReason } from './skip.js';

const skip = labSkipReason('lab teardown', ['ip', 'ethtool', 'iptables']);

/** A pid that is not running (pids above pid_max cannot exist). */
function deadPid(): number {
  const max = Number(execFileSync('cat', ['/proc/sys/kernel/pid_max'], { encoding: 'utf8' }));
  return max + 1;
}

describe.skipIf(skip !== undefined)('lab teardown', () => {
  it('down() removes the namespaces and the processes in them', async () => {
    const lab = await Lab.up({ paths: [{ name: 'a', delay: 1 }] });
    const names = Object.values(lab.namespaces);
    const sleeper = lab.spawn('web', ['sleep', '600']);
    expect(listNamespaces()).toEqual(expect.arrayContaining(names));
    await lab.down();
    expect(listNamespaces().filter((n) => names.includes(n))).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    expect(sleeper.exitCode !== null || sleeper.signalCode !== null).toBe(true);
  }, 30_000);

  it('removes labs of dead runs and of reused pids, keeps live ones', () => {
    const dead = `lab${deadPid()}x0-client`;
    const reused = `lab${process.pid}x999-client`; // our pid, but a record with another start time
    const live = `lab${process.pid}x998-client`;
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(join(STATE_DIR, `lab${process.pid}x999.json`), JSON.stringify({ pid: process.pid, start: '1' }));
    for (const ns of [dead, reused, live]) execFileSync('ip', ['netns', 'add', ns]);
    const sleeper = execFileSync('sh', ['-c', `ip netns exec ${dead} sleep 600 >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' }).trim();
    try {
      cleanupStaleLabs(); // (another test process's Lab.up may run one at the same time)
      const left = listNamespaces();
      expect(left).toContain(live);
      expect(left).not.toContain(dead);
      expect(left).not.toContain(reused);
      // Killed: gone, or a zombie waiting for its reaper.
      const state = (() => {
        try {
          return readFileSync(`/proc/${sleeper}/stat`, 'utf8').split(') ')[1][0];
        } catch {
          return 'gone';
        }
      })();
      expect(['gone', 'Z']).toContain(state);
    } finally {
      for (const ns of [dead, reused, live]) destroyNamespace(ns);
    }
  });
});
