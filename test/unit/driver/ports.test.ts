/**
 * Choosing our local ports outside the kernel's ephemeral range, and reserving them
 * (mptcp/driver/ports.ts), with sysctl files faked in memory.
 */
import { describe, expect, it } from 'vitest';
import {
  chooseClientPortRange,
  DEFAULT_EPHEMERAL,
  EPHEMERAL_RANGE_FILE,
  formatReservedPorts,
  normalizeRanges,
  parseEphemeralRange,
  parseReservedPorts,
  portInRanges,
  portProblems,
  readEphemeralRange,
  RESERVED_PORTS_FILE,
  reservePorts,
  type SysctlFiles,
} from '../../../mptcp/driver/ports.js';

function memFiles(init: Record<string, string>): SysctlFiles & { files: Record<string, string>; writes: string[] } {
  const files = { ...init };
  const writes: string[] = [];
  return {
    files,
    writes,
    read: (p) => {
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return v;
    },
    write: (p, t) => {
      writes.push(t);
      files[p] = t;
    },
  };
}

describe('the ephemeral range', () => {
  it('parses ip_local_port_range', () => {
    expect(parseEphemeralRange('32768\t60999\n')).toEqual({ lo: 32768, hi: 60999 });
    expect(() => parseEphemeralRange('nonsense')).toThrow(/cannot parse/);
  });

  it('reads the sysctl, falling back to the Linux default', () => {
    expect(readEphemeralRange(memFiles({ [EPHEMERAL_RANGE_FILE]: '40000 50000\n' }))).toEqual({ lo: 40000, hi: 50000 });
    expect(readEphemeralRange(memFiles({}))).toEqual(DEFAULT_EPHEMERAL);
  });
});

describe('chooseClientPortRange', () => {
  it('takes 61000-65535 with Linux defaults', () => {
    expect(chooseClientPortRange({ lo: 32768, hi: 60999 })).toEqual({ lo: 61000, hi: 65535 });
  });

  it('prefers ports above the ephemeral range, below only when too few are left above', () => {
    expect(chooseClientPortRange({ lo: 50000, hi: 60000 })).toEqual({ lo: 60001, hi: 65535 });
    expect(chooseClientPortRange({ lo: 32768, hi: 40000 })).toEqual({ lo: 40001, hi: 65535 });
    expect(chooseClientPortRange({ lo: 10000, hi: 65535 })).toEqual({ lo: 1024, hi: 9999 });
    expect(chooseClientPortRange({ lo: 10000, hi: 65000 })).toEqual({ lo: 1024, hi: 9999 });
    expect(chooseClientPortRange({ lo: 32768, hi: 60999 }, 4000)).toEqual({ lo: 61000, hi: 64999 });
    expect(chooseClientPortRange({ lo: 32768, hi: 60999 }, 5000)).toEqual({ lo: 1024, hi: 6023 });
  });

  it('can take a given number of ports', () => {
    expect(chooseClientPortRange({ lo: 32768, hi: 60999 }, 100)).toEqual({ lo: 61000, hi: 61099 });
    expect(() => chooseClientPortRange({ lo: 2000, hi: 60999 }, 5000)).toThrow(/no 5000 free client ports/);
  });

  it('fails with the fix when the ephemeral range covers everything', () => {
    expect(() => chooseClientPortRange({ lo: 1024, hi: 65535 })).toThrow(/ip_local_port_range/);
  });
});

describe('port ranges', () => {
  it('normalizes, tests membership and validates', () => {
    expect(normalizeRanges([{ lo: 5, hi: 9 }, { lo: 1, hi: 4 }, { lo: 20, hi: 20 }])).toEqual([
      { lo: 1, hi: 9 },
      { lo: 20, hi: 20 },
    ]);
    expect(portInRanges(20, [{ lo: 20, hi: 20 }])).toBe(true);
    expect(portInRanges(21, [{ lo: 20, hi: 20 }])).toBe(false);
    expect(() => normalizeRanges([{ lo: 10, hi: 5 }])).toThrow(RangeError);
    expect(() => normalizeRanges([{ lo: 0, hi: 5 }])).toThrow(RangeError);
    expect(() => normalizeRanges([{ lo: 1, hi: 65536 }])).toThrow(RangeError);
  });

  it('parses and formats ip_local_reserved_ports', () => {
    expect(parseReservedPorts('\n')).toEqual([]);
    expect(parseReservedPorts('8080,61000-65535\n')).toEqual([
      { lo: 8080, hi: 8080 },
      { lo: 61000, hi: 65535 },
    ]);
    expect(formatReservedPorts([{ lo: 61000, hi: 65535 }, { lo: 8080, hi: 8080 }, { lo: 8081, hi: 8090 }])).toBe('8080-8090,61000-65535');
  });

  it('reports ports the kernel could hand out', () => {
    const eph = { lo: 32768, hi: 60999 };
    expect(portProblems([{ lo: 61000, hi: 65535 }, { lo: 443, hi: 443 }], eph)).toEqual([]);
    expect(portProblems([{ lo: 40000, hi: 40010 }], eph)[0]).toMatch(/overlaps the kernel's ephemeral range 32768-60999/);
    expect(portProblems([{ lo: 40000, hi: 40010 }], eph, [{ lo: 40000, hi: 40010 }])).toEqual([]);
  });
});

describe('reservePorts', () => {
  it('adds our ports to the reserved list and restores it', () => {
    const fs = memFiles({ [RESERVED_PORTS_FILE]: '8080\n' });
    const undo = reservePorts([{ lo: 61000, hi: 65535 }], fs);
    expect(fs.files[RESERVED_PORTS_FILE]).toBe('8080,61000-65535');
    undo();
    undo();
    expect(fs.files[RESERVED_PORTS_FILE]).toBe('8080');
    expect(fs.writes).toHaveLength(2);
  });

  it('restores an empty list with a newline (an empty write would be ignored)', () => {
    const fs = memFiles({ [RESERVED_PORTS_FILE]: '\n' });
    reservePorts([{ lo: 61000, hi: 61001 }], fs)();
    expect(fs.writes).toEqual(['61000-61001', '\n']);
  });

  it('says to run as root when the sysctl is not writable', () => {
    const fs = memFiles({ [RESERVED_PORTS_FILE]: '' });
    fs.write = () => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    };
    expect(() => reservePorts([{ lo: 61000, hi: 61001 }], fs)).toThrow(/ip_local_reserved_ports \(EACCES\): run as root/);
  });
});
