/**
 * Our local TCP ports. The kernel must never hand our ports to its own sockets, so the
 * client range lies outside net.ipv4.ip_local_port_range (the ephemeral range, default
 * 32768-60999; the sysctl covers IPv6 too), e.g. 61000-65535, and can additionally be listed in
 * net.ipv4.ip_local_reserved_ports. A listener uses its configured port. The same ranges feed
 * the socket's BPF filter (bpf.ts) and the nftables RST guard (nft-guard.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** An inclusive range of TCP ports; a single port has lo === hi. */
export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

export const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
export const RESERVED_PORTS_FILE = '/proc/sys/net/ipv4/ip_local_reserved_ports';
/** Linux's default ephemeral range. */
export const DEFAULT_EPHEMERAL: PortRange = { lo: 32768, hi: 60999 };
/** Ports below this are privileged and conventionally used by services. */
export const LOWEST_CLIENT_PORT = 1024;

/** File access, injectable for tests. */
export interface SysctlFiles {
  read(path: string): string;
  write(path: string, text: string): void;
}

export const procFiles: SysctlFiles = {
  read: (p) => readFileSync(p, 'utf8'),
  write: (p, t) => writeFileSync(p, t),
};

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

export function checkRange(r: PortRange): PortRange {
  if (!isPort(r.lo) || !isPort(r.hi) || r.lo > r.hi) throw new RangeError(`invalid port range ${r.lo}-${r.hi}`);
  return r;
}

export function formatRange(r: PortRange): string {
  return r.lo === r.hi ? String(r.lo) : `${r.lo}-${r.hi}`;
}

/** Sorted, with overlapping and adjacent ranges merged. */
export function normalizeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = ranges.map(checkRange).sort((a, b) => a.lo - b.lo);
  const out: { lo: number; hi: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else out.push({ lo: r.lo, hi: r.hi });
  }
  return out;
}

export function portInRanges(port: number, ranges: readonly PortRange[]): boolean {
  return ranges.some((r) => port >= r.lo && port <= r.hi);
}

/** Parses ip_local_port_range ("32768\t60999\n"). */
export function parseEphemeralRange(text: string): PortRange {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  if (m === null) throw new Error(`cannot parse ${EPHEMERAL_RANGE_FILE}: ${JSON.stringify(text)}`);
  return checkRange({ lo: Number(m[1]), hi: Number(m[2]) });
}

/** The kernel's ephemeral range; the Linux default when the file cannot be read (not Linux). */
export function readEphemeralRange(files: SysctlFiles = procFiles): PortRange {
  let text: string;
  try {
    text = files.read(EPHEMERAL_RANGE_FILE);
  } catch {
    return DEFAULT_EPHEMERAL;
  }
  return parseEphemeralRange(text);
}

/** Parses ip_local_reserved_ports ("8080,61000-65535" or empty). */
export function parseReservedPorts(text: string): PortRange[] {
  const t = text.trim();
  if (t === '') return [];
  return t.split(',').map((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) throw new Error(`cannot parse ${RESERVED_PORTS_FILE} entry ${JSON.stringify(part)}`);
    return checkRange({ lo: Number(m[1]), hi: Number(m[2] ?? m[1]) });
  });
}

export function formatReservedPorts(ranges: readonly PortRange[]): string {
  return normalizeRanges(ranges).map(formatRange).join(',');
}

/** Fewest client ports worth taking above the ephemeral range before looking below it. */
export const MIN_CLIENT_PORTS = 1024;

/**
 * The client port range, outside the ephemeral range: preferably above it (61000-65535 with
 * Linux's defaults), where no well-known services listen; below it (from LOWEST_CLIENT_PORT)
 * only when fewer than `size` (default MIN_CLIENT_PORTS) ports are left above. With `size`, the
 * range holds exactly that many ports; without, all of its side. Throws with the fix when
 * neither side has room.
 */
export function chooseClientPortRange(ephemeral: PortRange, size?: number): PortRange {
  const above: PortRange | undefined = ephemeral.hi < 65535 ? { lo: Math.max(ephemeral.hi + 1, LOWEST_CLIENT_PORT), hi: 65535 } : undefined;
  const below: PortRange | undefined = ephemeral.lo > LOWEST_CLIENT_PORT ? { lo: LOWEST_CLIENT_PORT, hi: ephemeral.lo - 1 } : undefined;
  const span = (r: PortRange | undefined) => (r === undefined ? 0 : r.hi - r.lo + 1);
  const need = size ?? MIN_CLIENT_PORTS;
  const side = [above, below].find((r) => r !== undefined && span(r) >= need);
  if (side === undefined || need < 1) {
    const what = size === undefined ? 'free client ports' : `${size} free client ports`;
    throw new Error(
      `no ${what} outside the kernel's ephemeral range ${formatRange(ephemeral)}: ` +
        `shrink it, e.g. sysctl -w net.ipv4.ip_local_port_range="32768 60999"`,
    );
  }
  return { lo: side.lo, hi: size === undefined ? side.hi : side.lo + size - 1 };
}

/**
 * Human-readable problems with using `ports`: any port inside the ephemeral range that is
 * not reserved could be handed to a kernel socket. Empty when all is well.
 */
export function portProblems(ports: readonly PortRange[], ephemeral: PortRange, reserved: readonly PortRange[] = []): string[] {
  const problems: string[] = [];
  for (const r of normalizeRanges(ports)) {
    for (let p = Math.max(r.lo, ephemeral.lo); p <= Math.min(r.hi, ephemeral.hi); p++) {
      if (!portInRanges(p, reserved)) {
        problems.push(
          `port range ${formatRange(r)} overlaps the kernel's ephemeral range ${formatRange(ephemeral)} ` +
            `and is not in net.ipv4.ip_local_reserved_ports: the kernel may use port ${p} for its own connections`,
        );
        break;
      }
    }
  }
  return problems;
}

/**
 * Adds `ports` to net.ipv4.ip_local_reserved_ports (needs root; per network namespace) and
 * returns a function restoring the previous value. The kernel then never picks them as
 * ephemeral ports even where they overlap the ephemeral range.
 */
export function reservePorts(ports: readonly PortRange[], files: SysctlFiles = procFiles): () => void {
  const before = files.read(RESERVED_PORTS_FILE);
  const merged = formatReservedPorts([...parseReservedPorts(before), ...ports]);
  try {
    files.write(RESERVED_PORTS_FILE, merged);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' || code === 'EPERM' ? ': run as root' : '';
    throw new Error(`cannot write ${RESERVED_PORTS_FILE} (${code ?? String(e)})${hint}`, { cause: e });
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    // An empty write is a no-op for this sysctl; a lone newline clears it.
    files.write(RESERVED_PORTS_FILE, before.trim() === '' ? '\n' : before.trim());
  };
}
