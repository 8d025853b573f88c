/**
 * `mptcp-proxy demo` (what `npm start` runs). Until the proxy exists (issue 5 makes this a
 * self-contained client + aggregator demo), the demo shows what the project can do today:
 * it decodes a bundled capture of Linux kernel MPTCP traffic over two paths and prints a
 * census of the MPTCP options found, and points to `cat` for the userspace TCP.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeCaptureBytes } from '../../../mptcp/inspect/decode-capture.js';
import { describeMptcpOption } from '../../../mptcp/inspect/describe-option.js';
import { mptcpOptionLength } from '../../../mptcp/wire/mptcp-options.js';
import { formatWireError } from '../../../mptcp/wire/result.js';

/** The repository root, from either the sources (proxy/cli/commands) or dist/proxy/cli/commands. */
function repoRoot(): string {
  for (const up of ['../../../', '../../../../']) {
    const p = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(p + 'package.json')) return p;
  }
  return process.cwd() + '/';
}

export function runDemo(_args: string[]): number {
  const path = repoRoot() + 'test/fixtures/pcap/v4-two-paths.pcap';
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    process.stderr.write(`demo: the bundled capture ${path} is missing\n`);
    return 1;
  }
  const r = decodeCaptureBytes(bytes);
  if (!r.ok) {
    process.stderr.write(`demo: ${formatWireError(r.error)}\n`);
    return 1;
  }
  const census = new Map<string, number>();
  const firstOf = new Map<string, string>();
  let tcp = 0;
  let badChecksums = 0;
  for (const d of r.value.packets) {
    if (!d.packet) continue;
    tcp++;
    if (!d.packet.tcpChecksumValid || d.packet.ipChecksumValid === false) badChecksums++;
    for (const o of d.packet.tcp.header.options) {
      if (o.kind !== 'mptcp') continue;
      const key = `${o.option.subtype} len ${mptcpOptionLength(o.option)}`;
      census.set(key, (census.get(key) ?? 0) + 1);
      if (!firstOf.has(key)) firstOf.set(key, `frame ${d.frame}: ${describeMptcpOption(o.option)}`);
    }
  }
  const lines = [
    'mptcp-proxy demo',
    '',
    'The proxy itself (client + aggregator over several paths) is not built yet; see README.md',
    'for the feature status. What works today: the MPTCP v1 wire layer, and a userspace TCP on',
    'raw sockets that talks to Linux TCP (try `sudo npx mptcp-proxy cat --help`). Here the wire',
    'layer decodes a capture of the Linux kernel speaking MPTCP over two paths:',
    '',
    `  ${path}`,
    `  ${r.value.packets.length} packets, ${tcp} TCP, ${badChecksums} with a bad IP/TCP checksum`,
    '',
    'MPTCP options found (count, then the first occurrence):',
    ...[...census.entries()].map(([k, n]) => `  ${String(n).padStart(5)}  ${k.padEnd(22)} ${firstOf.get(k)}`),
    '',
    'Decode any capture yourself:  npx mptcp-proxy decode FILE.pcap [--json] [--mptcp-only]',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
