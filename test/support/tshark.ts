/**
 * Wireshark's dissector as a test oracle: runs tshark on a capture and turns its JSON into
 * per-frame views (addresses, ports, raw seq/ack, the MPTCP option trees in packet order,
 * expert infos), and maps our own option representation onto tshark's field names so two
 * decodes can be compared field by field.
 *
 * Tests that need tshark call `tsharkOrSkip()`: outside CI a missing tshark skips with a
 * message saying why; in CI (CI=true) it is an error, because CI installs it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { toHex } from '../../mptcp/wire/bytes.js';
import { formatIp } from '../../mptcp/wire/ip-address.js';
import { mptcpOptionLength } from '../../mptcp/wire/mptcp-options.js';
import { MptcpSubtype, type MptcpOption } from '../../mptcp/wire/mptcp-option-types.js';

export const TSHARK = '/usr/bin/tshark';

/** The exact arguments used for the stored fixture JSON and for live re-runs. */
export function tsharkFixtureArgs(pcap: string): string[] {
  return ['-r', pcap, '-T', 'json', '-J', 'frame ip ipv6 tcp', '--no-duplicate-keys', '-o', 'tcp.relative_sequence_numbers:FALSE'];
}

export function tsharkAvailable(): boolean {
  return existsSync(TSHARK);
}

/** True when tshark tests must be skipped; throws in CI, where tshark is installed. */
export function tsharkMissing(): boolean {
  if (tsharkAvailable()) return false;
  if (process.env.CI === 'true') {
    throw new Error(`tshark is required in CI (CI=true) but ${TSHARK} is missing: test/system-deps.sh installs it`);
  }
  console.warn(`SKIPPED: Wireshark comparison tests need ${TSHARK} (install: sudo bash test/system-deps.sh)`);
  return true;
}

export type TsharkTree = { [k: string]: TsharkValue };
export type TsharkValue = string | TsharkTree | TsharkValue[];

export function runTshark(args: string[]): unknown {
  const out = execFileSync(TSHARK, args, { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.toString('utf8')) as unknown;
}

export interface TsharkFrame {
  frame: number;
  ipSrc?: string;
  ipDst?: string;
  srcPort?: number;
  dstPort?: number;
  seqRaw?: number;
  ackRaw?: number;
  /** TCP flags byte (tshark's tcp.flags has 12 bits; the low 8 are the flags byte). */
  tcpFlags?: number;
  /** The raw 16-bit window field and the payload length. */
  windowRaw?: number;
  payloadLength?: number;
  /** One tree per MPTCP option, in packet order. */
  mptcp: TsharkTree[];
  /** Every `_ws.expert` entry found anywhere in the frame. */
  experts: { message: string; severity: string; group: string }[];
  malformed: boolean;
}

function asArray(v: TsharkValue | undefined): TsharkValue[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function str(tree: TsharkTree | undefined, key: string): string | undefined {
  const v = tree?.[key];
  return typeof v === 'string' ? v : undefined;
}

function collectExperts(v: TsharkValue, out: TsharkFrame['experts']): void {
  if (typeof v === 'string') return;
  if (Array.isArray(v)) {
    for (const x of v) collectExperts(x, out);
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    if (k === '_ws.expert') {
      for (const e of asArray(x)) {
        if (typeof e === 'object' && !Array.isArray(e)) {
          out.push({
            message: str(e, '_ws.expert.message') ?? JSON.stringify(e),
            severity: str(e, '_ws.expert.severity') ?? '',
            group: str(e, '_ws.expert.group') ?? '',
          });
        }
      }
    } else {
      collectExperts(x, out);
    }
  }
}

/** Expert severities (epan/proto.h): PI_ERROR 0x00800000, PI_WARN 0x00600000. */
export const EXPERT_ERROR = String(0x00800000);
export const EXPERT_WARN = String(0x00600000);

export function tsharkFrames(json: unknown): TsharkFrame[] {
  const frames: TsharkFrame[] = [];
  for (const pkt of json as { _source: { layers: TsharkTree } }[]) {
    const layers = pkt._source.layers;
    const frame = layers.frame as TsharkTree;
    const ip = (layers.ip ?? layers.ipv6) as TsharkTree | undefined;
    const tcp = layers.tcp as TsharkTree | undefined;
    const opts = tcp?.['tcp.options_tree'] as TsharkTree | undefined;
    const experts: TsharkFrame['experts'] = [];
    collectExperts(layers, experts);
    const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
    frames.push({
      frame: Number(str(frame, 'frame.number')),
      ipSrc: str(ip, 'ip.src') ?? str(ip, 'ipv6.src'),
      ipDst: str(ip, 'ip.dst') ?? str(ip, 'ipv6.dst'),
      srcPort: num(str(tcp, 'tcp.srcport')),
      dstPort: num(str(tcp, 'tcp.dstport')),
      seqRaw: num(str(tcp, 'tcp.seq_raw') ?? str(tcp, 'tcp.seq')),
      ackRaw: num(str(tcp, 'tcp.ack_raw') ?? str(tcp, 'tcp.ack')),
      tcpFlags: str(tcp, 'tcp.flags') === undefined ? undefined : Number(BigInt(str(tcp, 'tcp.flags') ?? '0') & 0xffn),
      windowRaw: num(str(tcp, 'tcp.window_size_value')),
      payloadLength: num(str(tcp, 'tcp.len')),
      mptcp: asArray(opts?.mptcp).filter((t): t is TsharkTree => typeof t === 'object' && !Array.isArray(t)),
      experts,
      malformed: '_ws.malformed' in layers,
    });
  }
  return frames;
}

/** tshark fields it derives rather than reads from the option (checked elsewhere). */
export const TSHARK_DERIVED_FIELDS = new Set(['mptcp.expected_token', 'mptcp.expected_idsn', 'mptcp.ack', 'mptcp.dss.dsn', 'mptcp.analysis']);

/**
 * Flattens one tshark MPTCP option tree to field -> values (decimal numbers normalized,
 * hex "0x.." flags turned to decimal, byte strings kept as lowercase hex without colons).
 */
export function flattenTsharkOption(tree: TsharkTree): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (k: string, v: string) => out.set(k, [...(out.get(k) ?? []), v]);
  const walk = (t: TsharkTree) => {
    for (const [k, v] of Object.entries(t)) {
      if (k === '_ws.expert') continue; // expert entries are not fields; see TsharkFrame.experts
      for (const x of asArray(v)) {
        if (typeof x === 'string') add(k, normalizeTsharkScalar(x));
        else if (!Array.isArray(x)) walk(x);
      }
    }
  };
  walk(tree);
  return out;
}

export function normalizeTsharkScalar(s: string): string {
  if (/^0x[0-9a-f]+$/i.test(s)) return BigInt(s).toString();
  if (/^([0-9a-f]{2}:)+[0-9a-f]{2}$/i.test(s)) return s.replace(/:/g, '').toLowerCase();
  if (s === 'True' || s === 'true') return '1';
  if (s === 'False' || s === 'false') return '0';
  return s;
}

const F = 'tcp.options.mptcp.';

/**
 * Our option expressed as the tshark fields it must produce. Only fields that tshark
 * 4.0's dissector shows are listed; a test asserts that tshark shows no field this map
 * lacks, so nothing goes unchecked.
 */
export function expectedTsharkFields(o: MptcpOption): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const set = (k: string, v: number | bigint | string) => m.set(k, [...(m.get(k) ?? []), String(v)]);
  set('tcp.option_kind', 30);
  set('tcp.option_len', mptcpOptionLength(o));
  const code = o.subtype === 'UNKNOWN' ? o.code : MptcpSubtype[o.subtype];
  set(F + 'subtype', code);
  switch (o.subtype) {
    case 'MP_CAPABLE':
      set(F + 'version', o.version);
      set(F + 'flags', o.flags);
      set(F + 'checksumreq.flags', (o.flags >> 7) & 1);
      set(F + 'extensibility.flag', (o.flags >> 6) & 1);
      set(F + 'nomoresubflows.flag', (o.flags >> 5) & 1);
      set(F + 'sha256.flag', o.flags & 1);
      set(F + 'reserved.flag', (o.flags >> 1) & 0xf);
      if (o.senderKey !== undefined) set(F + 'sendkey', o.senderKey);
      if (o.receiverKey !== undefined) set(F + 'recvkey', o.receiverKey);
      if (o.dataLength !== undefined) set(F + 'datalvllen', o.dataLength);
      if (o.checksum !== undefined) set(F + 'checksum', o.checksum);
      break;
    case 'MP_JOIN':
      if (o.stage === 'syn') {
        set(F + 'flags', (MptcpSubtype.MP_JOIN << 4) | o.flags); // tshark shows all of byte 2
        set(F + 'backup.flag', o.flags & 1);
        set(F + 'addrid', o.addressId);
        set(F + 'recvtok', o.receiverToken);
        set(F + 'sendrand', o.senderNonce);
      } else if (o.stage === 'syn-ack') {
        set(F + 'flags', (MptcpSubtype.MP_JOIN << 4) | o.flags);
        set(F + 'backup.flag', o.flags & 1);
        set(F + 'addrid', o.addressId);
        set(F + 'sendtrunchmac', o.truncatedHmac);
        set(F + 'sendrand', o.senderNonce);
      } else {
        set(F + 'reserved', o.reserved);
        set(F + 'sendhmac', toHex(o.hmac));
      }
      break;
    case 'DSS':
      set(F + 'flags', o.flags);
      set(F + 'datafin.flag', (o.flags >> 4) & 1);
      set(F + 'dseqn8.flag', (o.flags >> 3) & 1);
      set(F + 'dseqnpresent.flag', (o.flags >> 2) & 1);
      set(F + 'dataack8.flag', (o.flags >> 1) & 1);
      set(F + 'dataackpresent.flag', o.flags & 1);
      if (o.dataAck !== undefined) set(F + 'rawdataack', o.dataAck);
      if (o.dsn !== undefined) set(F + 'rawdataseqno', o.dsn);
      if (o.subflowSeq !== undefined) set(F + 'subflowseqno', o.subflowSeq);
      if (o.dataLength !== undefined) set(F + 'datalvllen', o.dataLength);
      if (o.checksum !== undefined) set(F + 'checksum', o.checksum);
      break;
    case 'ADD_ADDR':
      set(F + 'echo', o.flags & 1);
      set(F + 'addrid', o.addressId);
      set(F + (o.address.length === 4 ? 'ipv4' : 'ipv6'), formatIp(o.address));
      if (o.port !== undefined) set(F + 'port', o.port);
      if (o.truncatedHmac !== undefined) set(F + 'addaddrtrunchmac', o.truncatedHmac);
      break;
    case 'REMOVE_ADDR':
      set('mptcp.rm_addr.count', o.addressIds.length);
      for (const id of o.addressIds) set(F + 'addrid', id);
      break;
    case 'MP_PRIO':
      set(F + 'flags', (MptcpSubtype.MP_PRIO << 4) | o.flags);
      set(F + 'backup.flag', o.flags & 1);
      break;
    case 'MP_FAIL':
      set(F + 'reserved', o.reserved);
      set(F + 'rawdataseqno', o.dsn);
      break;
    case 'MP_FASTCLOSE':
      set(F + 'reserved', o.reserved);
      set(F + 'recvkey', o.receiverKey);
      break;
    case 'MP_TCPRST':
      set(F + 'flags', (MptcpSubtype.MP_TCPRST << 4) | o.flags);
      set(F + 'flag_U.flag', (o.flags >> 3) & 1);
      set(F + 'flag_V.flag', (o.flags >> 2) & 1);
      set(F + 'flag_W.flag', (o.flags >> 1) & 1);
      set(F + 'flag_T.flag', o.flags & 1);
      set(F + 'rst_reason', o.reason);
      break;
    case 'UNKNOWN':
      break;
  }
  return m;
}

/**
 * Differences between the fields our option must produce and tshark's decode of it: one
 * string per mismatched or missing field, and one per tshark field we do not cover (except
 * derived fields and expert entries, which callers check separately).
 */
export function diffAgainstTshark(o: MptcpOption, tree: TsharkTree): string[] {
  const theirs = flattenTsharkOption(tree);
  const expected = expectedTsharkFields(o);
  const diffs: string[] = [];
  for (const [field, values] of expected) {
    const got = theirs.get(field);
    if (got === undefined && o.subtype === 'DSS' && field === F + 'checksum') continue; // see TSHARK_OMITS
    if (JSON.stringify(got) !== JSON.stringify(values)) diffs.push(`${field}: ours ${values.join(',')} tshark ${got?.join(',') ?? '(absent)'}`);
  }
  for (const k of theirs.keys()) {
    if (expected.has(k) || TSHARK_DERIVED_FIELDS.has(k) || k.startsWith('_ws.expert')) continue;
    diffs.push(`${k}: tshark ${theirs.get(k)?.join(',')} not covered by the comparison`);
  }
  return diffs;
}

/**
 * Fields tshark 4.0 (Debian 12) does not display although present: the DSS checksum, in every
 * context we tried (alone, and after an MP_CAPABLE handshake with flag A). Where tshark shows
 * it, it must match; where it does not, tshark's option length (compared) still proves the two
 * bytes are there, and the checksum values are verified by recomputation on kernel traffic.
 */
export const TSHARK_OMITS = ['DSS checksum'];

/** Number of fields a successful comparison checked. */
export function comparedFieldCount(o: MptcpOption): number {
  let n = 0;
  for (const v of expectedTsharkFields(o).values()) n += v.length;
  return n;
}
