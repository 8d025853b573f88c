/**
 * `mptcp-proxy decode FILE [--json] [--mptcp-only]`: prints each packet of a pcap or pcapng
 * capture (Ethernet, Linux cooked v1/v2, raw IP, loopback) with addresses, ports, TCP flags,
 * sequence numbers, checksum verdicts and every decoded MPTCP option. Malformed packets
 * are shown with the typed error and decoding continues. Our debugging tool, and a second
 * way to exercise the wire layer on real captures.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeCaptureBytes, decodedPacketJson, formatDecodedPacket, type DecodedPacket } from '../../../mptcp/inspect/decode-capture.js';
import { formatWireError } from '../../../mptcp/wire/result.js';

const HELP = `Usage: mptcp-proxy decode FILE [--json] [--mptcp-only]

Decodes a pcap or pcapng capture: per packet, the addresses, ports, TCP flags, seq/ack,
checksum verdicts and every TCP and MPTCP option.

  --json         one JSON object per packet (64-bit values as decimal strings)
  --mptcp-only   only packets that carry an MPTCP option (or are malformed)
  -h, --help     this text

Exit status: 0 when every packet decoded, 1 when some were malformed, 2 on usage or file errors.`;

function hasMptcp(d: DecodedPacket): boolean {
  return d.error !== undefined || (d.packet?.tcp.header.options.some((o) => o.kind === 'mptcp' || (o.kind === 'invalid' && o.type === 30)) ?? false);
}

export function runDecode(args: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, 'mptcp-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`decode: ${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    process.stderr.write(`decode: expected exactly one capture file\n\n${HELP}\n`);
    return 2;
  }
  const path = parsed.positionals[0];
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    process.stderr.write(`decode: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 2;
  }
  const r = decodeCaptureBytes(bytes);
  if (!r.ok) {
    process.stderr.write(`decode: ${path} is not a capture file we can read: ${formatWireError(r.error)}\n`);
    return 2;
  }
  const { file, packets } = r.value;
  const t0 = packets.length ? packets[0].timestampNs : 0n;
  const shown = parsed.values['mptcp-only'] ? packets.filter(hasMptcp) : packets;
  const out: string[] = [];
  for (const d of shown) out.push(parsed.values.json ? JSON.stringify(decodedPacketJson(d, t0)) : formatDecodedPacket(d, t0));
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  const malformed = packets.filter((d) => d.error).length;
  if (file.truncated) process.stderr.write(`decode: capture truncated: ${formatWireError(file.truncated)}\n`);
  if (!parsed.values.json) {
    process.stderr.write(`decode: ${packets.length} packets (${file.format}), ${malformed} malformed\n`);
  }
  return malformed > 0 || file.truncated ? 1 : 0;
}
