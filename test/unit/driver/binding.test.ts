/**
 * The addon loader (mptcp/driver/binding.ts) never throws and says why the addon is missing;
 * the driver turns that into "native addon not built: <reason>". When the addon is built, its
 * argument checks are exercised too (they need no privileges).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  errnoName,
  errnoNumber,
  isUnavailable,
  loadRawSocketBinding,
  NativeAddonError,
  probeRawSocketBinding,
} from '../../../mptcp/driver/binding.js';
import { RawSocketDriver } from '../../../mptcp/driver/raw-driver.js';
import { FakeEndpoint } from './fakes.js';

function tempNativeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mptcp-native-'));
  mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
  return dir;
}

describe('probeRawSocketBinding', () => {
  it('explains a missing build with the reason build.sh left', () => {
    const dir = tempNativeDir();
    writeFileSync(join(dir, 'build', 'not-built.txt'), 'build tools missing: g++ (Debian/Ubuntu: sudo apt-get install -y python3 make g++)\n');
    const b = probeRawSocketBinding({ dirs: [dir], override: undefined });
    expect(isUnavailable(b) && b.reason).toBe('build tools missing: g++ (Debian/Ubuntu: sudo apt-get install -y python3 make g++) (build it with: npm run build:native)');
  });

  it('explains a missing file without a note', () => {
    const dir = tempNativeDir();
    const b = probeRawSocketBinding({ dirs: [dir], override: undefined });
    expect(isUnavailable(b) && b.reason).toMatch(/mptcp_raw\.node does not exist/);
  });

  it('explains a file that does not load', () => {
    const dir = tempNativeDir();
    writeFileSync(join(dir, 'build', 'Release', 'mptcp_raw.node'), 'not an ELF file');
    const b = probeRawSocketBinding({ dirs: [dir], override: undefined });
    expect(isUnavailable(b) && b.reason).toMatch(/mptcp_raw\.node failed to load/);
  });

  it('honours an explicit path and refuses other platforms', () => {
    const b = probeRawSocketBinding({ override: '/nonexistent/x.node', dirs: [] });
    expect(isUnavailable(b) && b.reason).toMatch(/\/nonexistent\/x\.node does not exist/);
    const d = probeRawSocketBinding({ platform: 'darwin' });
    expect(isUnavailable(d) && d.reason).toBe('raw sockets need Linux (this is darwin)');
  });

  it('the driver reports an unavailable addon as "native addon not built: <reason>"', () => {
    const e = new NativeAddonError('build tools missing: make');
    expect(e.message).toBe('native addon not built: build tools missing: make');
    const real = loadRawSocketBinding();
    if (isUnavailable(real)) {
      expect(() => RawSocketDriver.open({ endpoint: new FakeEndpoint(), paths: [{ address: '10.0.0.1' }], ports: [{ lo: 61000, hi: 61001 }], guard: false })).toThrow(
        /^native addon not built: /,
      );
    }
  });
});

describe('errno names', () => {
  it('maps numbers to names and back', () => {
    expect(errnoName(errnoNumber('EAGAIN'))).toBe('EAGAIN');
    expect(errnoName(errnoNumber('EMSGSIZE'))).toBe('EMSGSIZE');
    expect(errnoName(99999)).toBe('errno 99999');
  });
});

const real = loadRawSocketBinding();
describe.skipIf(isUnavailable(real))('the built addon, without privileges', () => {
  if (isUnavailable(real)) return;
  it('checks its arguments', () => {
    expect(() => real.openRaw(5 as 4, new Uint8Array(4), null, 0, new Uint8Array(8), 0)).toThrow(TypeError);
    expect(() => real.openRaw(4, new Uint8Array(16), null, 0, new Uint8Array(8), 0)).toThrow(/4- or 16-byte address/);
    expect(() => real.openRaw(4, new Uint8Array(4), null, 0, new Uint8Array(7), 0)).toThrow(/8-byte instructions/);
  });

  it('refuses unknown fds and ignores closing them', () => {
    expect(() => real.recvBatch(123456, new Uint8Array(100), 50, 1, new Uint32Array(1))).toThrow(/unknown or closed fd/);
    expect(() => real.close(123456)).not.toThrow();
  });
});
