/**
 * Rebuilds MPTCP connections from a decoded capture, for tests on real kernel traffic: the
 * keys from MP_CAPABLE, which subflow belongs to which connection (initial 4-tuple, then
 * MP_JOIN tokens), each direction's ISN and payload bytes by sequence number, so that
 * HMACs, tokens and DSS checksums can be recomputed and verified independently.
 */
import type { DecodedPacket } from '../../mptcp/inspect/decode-capture.js';
import { keyToken } from '../../mptcp/wire/crypto.js';
import { formatIp } from '../../mptcp/wire/ip-address.js';
import type { MptcpOption } from '../../mptcp/wire/mptcp-option-types.js';
import type { TcpPacket } from '../../mptcp/wire/packet.js';
import { TcpFlag } from '../../mptcp/wire/tcp-header.js';

export interface TracedConnection {
  /** Key of the host that sent the MP_CAPABLE SYN (the initiator) and of the listener. */
  clientKey?: bigint;
  serverKey?: bigint;
  /** "ip:port>ip:port" of the initial subflow in the client-to-server direction. */
  initialFlow: string;
  /** Every subflow's client-to-server flow id. */
  flows: Set<string>;
}

export interface TracedOption {
  frame: number;
  packet: TcpPacket;
  option: MptcpOption;
  flow: string;
  reverse: string;
}

export function flowId(p: TcpPacket): string {
  const h = p.tcp.header;
  return `${formatIp(p.src)}:${h.srcPort}>${formatIp(p.dst)}:${h.dstPort}`;
}

export function reverseFlowId(p: TcpPacket): string {
  const h = p.tcp.header;
  return `${formatIp(p.dst)}:${h.dstPort}>${formatIp(p.src)}:${h.srcPort}`;
}

/** One direction of one subflow: ISN and the payload bytes seen, by absolute sequence number. */
export class DirectionStream {
  isn?: number;
  private readonly chunks = new Map<number, Uint8Array>();

  add(seq: number, payload: Uint8Array): void {
    if (payload.length > 0 && !this.chunks.has(seq)) this.chunks.set(seq, payload);
  }

  /** Bytes [start, start + length) of the stream (absolute seq), or undefined if not all captured. */
  read(start: number, length: number): Uint8Array | undefined {
    const out = new Uint8Array(length);
    let have = 0;
    while (have < length) {
      const want = (start + have) >>> 0;
      let found = false;
      for (const [seq, data] of this.chunks) {
        const off = (want - seq) >>> 0;
        if (off < data.length) {
          const n = Math.min(data.length - off, length - have);
          out.set(data.subarray(off, off + n), have);
          have += n;
          found = true;
          break;
        }
      }
      if (!found) return undefined;
    }
    return out;
  }
}

export interface Trace {
  connections: TracedConnection[];
  options: TracedOption[];
  streams: Map<string, DirectionStream>;
  /** Connection of a flow (either direction). */
  connectionOf(flow: string): TracedConnection | undefined;
  /** The key of the host that sent a packet on `flow`, and of the one that received it. */
  keysFor(flow: string): { sender?: bigint; receiver?: bigint };
}

export function traceCapture(packets: DecodedPacket[]): Trace {
  const connections: TracedConnection[] = [];
  const byFlow = new Map<string, TracedConnection>();
  const clientSide = new Map<string, boolean>();
  const options: TracedOption[] = [];
  const streams = new Map<string, DirectionStream>();
  const stream = (flow: string) => {
    let s = streams.get(flow);
    if (!s) streams.set(flow, (s = new DirectionStream()));
    return s;
  };

  for (const d of packets) {
    const p = d.packet;
    if (!p || !d.ipBytes) continue;
    const h = p.tcp.header;
    const flow = flowId(p);
    const reverse = reverseFlowId(p);
    const s = stream(flow);
    if (h.flags & TcpFlag.SYN) s.isn = h.seq;
    s.add(h.seq + (h.flags & TcpFlag.SYN ? 1 : 0), d.ipBytes.subarray(p.tcp.payloadOffset, p.tcp.payloadEnd));
    for (const o of h.options) {
      if (o.kind !== 'mptcp') continue;
      const option = o.option;
      options.push({ frame: d.frame, packet: p, option, flow, reverse });
      if (option.subtype === 'MP_CAPABLE') {
        const syn = (h.flags & TcpFlag.SYN) !== 0;
        const ack = (h.flags & TcpFlag.ACK) !== 0;
        if (syn && !ack && !byFlow.has(flow)) {
          // A retransmitted SYN reuses the connection; a new SYN on a reused 4-tuple after
          // the old one closed would start a new one (not produced by our captures).
          const c: TracedConnection = { initialFlow: flow, flows: new Set([flow]) };
          connections.push(c);
          byFlow.set(flow, c);
          byFlow.set(reverse, c);
          clientSide.set(flow, true);
          clientSide.set(reverse, false);
        }
        const c = byFlow.get(flow);
        if (!c) continue;
        const fromClient = clientSide.get(flow) === true;
        if (syn && ack && option.senderKey !== undefined) c.serverKey = option.senderKey;
        if (!syn && option.senderKey !== undefined) {
          if (fromClient) c.clientKey = option.senderKey;
          if (option.receiverKey !== undefined && fromClient) c.serverKey ??= option.receiverKey;
        }
      } else if (option.subtype === 'MP_JOIN' && option.stage === 'syn') {
        // The token names the receiver's key (RFC 8684 §3.2); the SYN's sender is the client
        // side of this subflow when the token is the server's, and the reverse otherwise.
        const c = connections.find((k) => (k.serverKey !== undefined && keyToken(k.serverKey) === option.receiverToken) || (k.clientKey !== undefined && keyToken(k.clientKey) === option.receiverToken));
        if (!c) continue;
        const toServer = c.serverKey !== undefined && keyToken(c.serverKey) === option.receiverToken;
        c.flows.add(toServer ? flow : reverse);
        byFlow.set(flow, c);
        byFlow.set(reverse, c);
        clientSide.set(flow, toServer);
        clientSide.set(reverse, !toServer);
      }
    }
  }
  return {
    connections,
    options,
    streams,
    connectionOf: (flow) => byFlow.get(flow),
    keysFor: (flow) => {
      const c = byFlow.get(flow);
      if (!c) return {};
      return clientSide.get(flow) ? { sender: c.clientKey, receiver: c.serverKey } : { sender: c.serverKey, receiver: c.clientKey };
    },
  };
}
