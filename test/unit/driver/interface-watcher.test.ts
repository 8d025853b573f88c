/** InterfaceWatcher (mptcp/driver/interface-watcher.ts) with an injected interface list. */
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { globalAddresses, InterfaceWatcher, type InterfaceAddress } from '../../../mptcp/driver/interface-watcher.js';

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({ address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: `${address}/24` });
const v6 = (address: string, scopeid = 0): NetworkInterfaceInfo => ({ address, family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', cidr: `${address}/64`, scopeid });

describe('InterfaceWatcher', () => {
  it('counts only global unicast addresses', () => {
    const m = globalAddresses({ lo: [v4('127.0.0.1', true)], eth0: [v4('192.0.2.10'), v6('fe80::1', 2), v6('2001:db8::10')] });
    expect([...m.keys()].sort()).toEqual(['192.0.2.10', '2001:db8::10']);
    expect(m.get('2001:db8::10')).toEqual({ address: '2001:db8::10', family: 6, interface: 'eth0' });
  });

  it('reports addresses that appear and disappear between polls, with their interface', () => {
    let list: NodeJS.Dict<NetworkInterfaceInfo[]> = { wlan0: [v4('10.0.0.5')] };
    const w = new InterfaceWatcher(() => list, 1000);
    const events: string[] = [];
    w.on('address-added', (a: InterfaceAddress) => events.push(`+${a.interface}/${a.address}`));
    w.on('address-removed', (a: InterfaceAddress) => events.push(`-${a.interface}/${a.address}`));
    expect(w.current().map((a) => a.address)).toEqual(['10.0.0.5']);
    w.poll();
    expect(events).toEqual([]);
    list = { wlan0: [v4('10.0.0.5')], wwan0: [v4('100.64.1.7'), v6('2001:db8:1::7')] };
    w.poll();
    expect(events).toEqual(['+wwan0/100.64.1.7', '+wwan0/2001:db8:1::7']);
    list = { wwan0: [v4('100.64.1.7'), v6('2001:db8:1::7')] };
    w.poll();
    expect(events.at(-1)).toBe('-wlan0/10.0.0.5');
    expect(events).toHaveLength(3);
  });
});
