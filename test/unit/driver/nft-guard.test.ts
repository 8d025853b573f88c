/**
 * The nftables RST guard (mptcp/driver/nft-guard.ts) without privileges: the exact script it
 * hands to `nft -f -`, replacing stale tables, turning nft's failures into actionable errors,
 * and removal on dispose, exit and signals (with a fake process object).
 */
import { describe, expect, it } from 'vitest';
import {
  GUARD_PRIORITY,
  guardScript,
  guardTableName,
  NftGuard,
  NftGuardError,
  nftError,
  pidTables,
  removeScript,
} from '../../../mptcp/driver/nft-guard.js';
import { FakeProcess, FakeRunner } from './fakes.js';

const PORTS = [
  { lo: 61000, hi: 65535 },
  { lo: 443, hi: 443 },
];

function install(runner: FakeRunner, extra: Partial<Parameters<typeof NftGuard.install>[0]> = {}): NftGuard {
  return NftGuard.install({ ports: PORTS, mark: 0x6d70, runner: runner.run, nft: '/usr/sbin/nft', cleanupOnExit: false, ...extra });
}

describe('guardScript', () => {
  it('drops RSTs from our ports unless they carry our mark, in a table of its own', () => {
    expect(guardScript('mptcp_proxy_test', PORTS, 0x6d70)).toBe(
      [
        'table inet mptcp_proxy_test',
        'delete table inet mptcp_proxy_test',
        'table inet mptcp_proxy_test {',
        '  chain output {',
        '    type filter hook output priority -300; policy accept;',
        '    meta mark != 0x00006d70 tcp sport { 443, 61000-65535 } tcp flags & rst == rst counter drop comment "mptcp-proxy: kernel RSTs for our userspace connections"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(GUARD_PRIORITY).toBe(-300);
  });

  it('deletes the given stale tables first', () => {
    expect(guardScript('mptcp_proxy_a', PORTS, 1, ['mptcp_proxy_pid7']).split('\n')[0]).toBe('delete table inet mptcp_proxy_pid7');
  });

  it('rejects a zero mark, no ports and bad names', () => {
    expect(() => guardScript('t', PORTS, 0)).toThrow(/non-zero/);
    expect(() => guardScript('t', [], 1)).toThrow(/no ports/);
    expect(() => guardTableName('a b')).toThrow(RangeError);
    expect(() => guardTableName('x;flush ruleset')).toThrow(RangeError);
    expect(guardTableName('client_1')).toBe('mptcp_proxy_client_1');
  });

  it('removes a table whether or not it exists', () => {
    expect(removeScript('mptcp_proxy_x')).toBe('table inet mptcp_proxy_x\ndelete table inet mptcp_proxy_x\n');
  });
});

describe('NftGuard.install and dispose', () => {
  it('lists tables, then installs the guard with one nft -f - transaction', () => {
    const r = new FakeRunner();
    const g = install(r, { name: 'unit' });
    expect(g.table).toBe('mptcp_proxy_unit');
    expect(r.calls.map((c) => [c.file, ...c.args])).toEqual([
      ['/usr/sbin/nft', 'list', 'tables', 'inet'],
      ['/usr/sbin/nft', '-f', '-'],
    ]);
    expect(r.scripts[0]).toBe(guardScript('mptcp_proxy_unit', PORTS, 0x6d70));
    g.dispose();
    g.dispose();
    expect(r.scripts).toEqual([guardScript('mptcp_proxy_unit', PORTS, 0x6d70), removeScript('mptcp_proxy_unit')]);
    expect(g.active).toBe(false);
  });

  it('names the table after the pid by default', () => {
    const r = new FakeRunner();
    expect(install(r, { process: new FakeProcess() }).table).toBe('mptcp_proxy_pid4242');
  });

  it("removes pid-named tables of dead processes, never a live one's or its own", () => {
    expect(pidTables('table inet filter\ntable inet mptcp_proxy_pid12\ntable inet mptcp_proxy_client\n')).toEqual([{ table: 'mptcp_proxy_pid12', pid: 12 }]);
    const r = new FakeRunner();
    r.tables = ['table inet mptcp_proxy_pid12', 'table inet mptcp_proxy_pid13', 'table inet mptcp_proxy_pid4242', 'table inet mptcp_proxy_other'].join('\n');
    install(r, { process: new FakeProcess(), isAlive: (pid) => pid === 13 });
    const first = r.scripts[0]?.split('\n') ?? [];
    expect(first.filter((l) => l.startsWith('delete'))).toEqual(['delete table inet mptcp_proxy_pid12', 'delete table inet mptcp_proxy_pid4242']);
  });
});

describe('errors say what to do', () => {
  it('nft not installed', () => {
    const r = new FakeRunner();
    r.results = [{ status: null, error: Object.assign(new Error('spawnSync nft ENOENT'), { code: 'ENOENT' }) }];
    expect(() => install(r)).toThrow(/nft command was not found.*apt-get install nftables/);
    const e = nftError('x', { status: null, stdout: '', stderr: '', error: Object.assign(new Error('e'), { code: 'ENOENT' }) });
    expect(e).toBeInstanceOf(NftGuardError);
    expect(e.reason).toBe('nft-missing');
  });

  it('not root', () => {
    const r = new FakeRunner();
    r.results = [{ status: 1, stderr: 'netlink: Error: cache initialization failed: Operation not permitted\n' }];
    expect(() => install(r)).toThrow(/Operation not permitted\. The driver needs CAP_NET_ADMIN.*run it as root/);
    expect(nftError('x', { status: 1, stdout: '', stderr: 'Operation not permitted (you must be root)' }).reason).toBe('permission');
  });

  it('a kernel without nf_tables', () => {
    expect(nftError('x', { status: 1, stdout: '', stderr: 'Error: Could not process rule: Protocol not supported' }).message).toMatch(/lacks nf_tables.*modprobe nf_tables/);
  });

  it('anything else keeps nft\'s own message', () => {
    const e = nftError('install', { status: 1, stdout: '', stderr: 'Error: syntax error, unexpected junk' });
    expect(e.reason).toBe('failed');
    expect(e.message).toMatch(/exit status 1.*syntax error, unexpected junk/);
  });

  it('a failing listing is reported the same way', () => {
    const r = new FakeRunner();
    r.listFailure = { status: 1, stderr: 'Operation not permitted' };
    expect(() => install(r)).toThrow(/cannot list tables: Operation not permitted/);
    expect(r.scripts).toEqual([]);
  });
});

describe('cleanup on exit and signals', () => {
  it('registers one set of handlers for all guards of a process and removes them at the end', () => {
    const proc = new FakeProcess();
    const r = new FakeRunner();
    const a = install(r, { name: 'a', process: proc, cleanupOnExit: true });
    const b = install(r, { name: 'b', process: proc, cleanupOnExit: true });
    expect(proc.listenerCount('exit')).toBe(1);
    expect(proc.listenerCount('SIGINT')).toBe(1);
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    a.dispose();
    expect(proc.listenerCount('exit')).toBe(1);
    b.dispose();
    expect(proc.listenerCount('exit')).toBe(0);
    expect(proc.listenerCount('SIGINT')).toBe(0);
  });

  it('removes the tables on exit', () => {
    const proc = new FakeProcess();
    const r = new FakeRunner();
    const a = install(r, { name: 'a', process: proc, cleanupOnExit: true });
    const b = install(r, { name: 'b', process: proc, cleanupOnExit: true });
    proc.emit('exit');
    expect(a.active || b.active).toBe(false);
    expect(r.scripts.slice(2)).toEqual([removeScript('mptcp_proxy_a'), removeScript('mptcp_proxy_b')]);
    expect(proc.kills).toEqual([]);
  });

  it('on SIGTERM removes the table and re-raises the signal when nobody else handles it', () => {
    const proc = new FakeProcess();
    const r = new FakeRunner();
    const g = install(r, { name: 'a', process: proc, cleanupOnExit: true });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(g.active).toBe(false);
    expect(proc.listenerCount('SIGTERM')).toBe(0);
    expect(proc.kills).toEqual([{ pid: 4242, signal: 'SIGTERM' }]);
  });

  it('on SIGINT leaves the decision to the application when it handles the signal too', () => {
    const proc = new FakeProcess();
    const r = new FakeRunner();
    proc.on('SIGINT', () => undefined);
    const g = install(r, { name: 'a', process: proc, cleanupOnExit: true });
    proc.emit('SIGINT', 'SIGINT');
    expect(g.active).toBe(false);
    expect(proc.kills).toEqual([]);
  });

  it('a failing removal during exit is reported, not thrown', () => {
    const proc = new FakeProcess();
    const r = new FakeRunner();
    install(r, { name: 'a', process: proc, cleanupOnExit: true });
    r.results = [{ status: 1, stderr: 'Error: boom' }];
    const errors: unknown[] = [];
    const orig = console.error;
    console.error = (...args: unknown[]) => errors.push(args[0]);
    try {
      expect(() => proc.emit('exit')).not.toThrow();
    } finally {
      console.error = orig;
    }
    expect(String(errors[0])).toMatch(/cannot remove the RST guard table inet mptcp_proxy_a/);
  });
});
