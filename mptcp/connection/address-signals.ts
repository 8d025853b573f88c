/**
 * The address signals one MPTCP connection owes its peer (RFC 8684 §3.4): our ADD_ADDR
 * announcements (resent until echoed, a few times), echoes of the peer's ADD_ADDRs, and our
 * REMOVE_ADDRs. Pure bookkeeping: the connection asks which option a pure ACK should carry
 * (`next`), reports what was sent (`sent`), and runs the retransmission deadline.
 */
import { addAddrHmac } from '../wire/crypto.js';
import { ADD_ADDR_FLAG_ECHO, type AddAddrOption, type MptcpOption } from '../wire/mptcp-option-types.js';

interface Announcement {
  id: number;
  address: Uint8Array;
  port: number;
  /** Resend until echoed (§3.4.1); 0 = due now. */
  nextSendAt: number;
  tries: number;
}

/** Time to wait for an ADD_ADDR echo before resending (Linux: net.mptcp.add_addr_timeout = 120 s; we retry sooner). */
const ADD_ADDR_RETRY_MS = 2000;
const ADD_ADDR_TRIES = 4;

export class AddressSignals {
  private readonly announce: Announcement[] = [];
  private readonly echoes: AddAddrOption[] = [];
  private readonly removals: number[] = [];

  /** Queues an ADD_ADDR for one of our addresses. */
  add(id: number, address: Uint8Array, port = 0): void {
    this.announce.push({ id, address, port, nextSendAt: 0, tries: 0 });
  }

  /** Queues a REMOVE_ADDR and forgets any announcement of that id. */
  remove(id: number): void {
    this.removals.push(id);
    for (let i = this.announce.length - 1; i >= 0; i--) if (this.announce[i].id === id) this.announce.splice(i, 1);
  }

  /** The peer echoed our ADD_ADDR: stop resending it. */
  echoed(id: number): void {
    const i = this.announce.findIndex((a) => a.id === id);
    if (i >= 0) this.announce.splice(i, 1);
  }

  /** The peer announced an address (its HMAC checked): we owe it an echo. */
  echo(opt: AddAddrOption): void {
    this.echoes.push({ subtype: 'ADD_ADDR', flags: ADD_ADDR_FLAG_ECHO, addressId: opt.addressId, address: opt.address, port: opt.port });
  }

  /** The option the next pure ACK should carry, if any. */
  next(now: number, localKey: bigint, remoteKey: bigint): MptcpOption | null {
    const echo = this.echoes[0];
    if (echo) return echo;
    if (this.removals.length > 0) return { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: this.removals.slice(0, 8) };
    for (const a of this.announce) {
      if (a.nextSendAt > now) continue;
      return { subtype: 'ADD_ADDR', flags: 0, addressId: a.id, address: a.address, port: a.port || undefined, truncatedHmac: addAddrHmac(localKey, remoteKey, a.id, a.address, a.port) };
    }
    return null;
  }

  /** `opt` (from next()) went out at `now`; returns true for a first or repeated ADD_ADDR. */
  sent(now: number, opt: MptcpOption): boolean {
    if (opt.subtype === 'ADD_ADDR') {
      if (opt.flags & ADD_ADDR_FLAG_ECHO) {
        this.echoes.shift();
        return false;
      }
      const a = this.announce.find((x) => x.id === opt.addressId);
      if (!a) return false;
      a.tries++;
      if (a.tries >= ADD_ADDR_TRIES) this.announce.splice(this.announce.indexOf(a), 1);
      else a.nextSendAt = now + ADD_ADDR_RETRY_MS;
      return true;
    }
    if (opt.subtype === 'REMOVE_ADDR') this.removals.splice(0, opt.addressIds.length);
    return false;
  }

  /** When an unechoed ADD_ADDR is due again. */
  deadline(): number {
    let t = Infinity;
    for (const a of this.announce) if (a.nextSendAt > 0) t = Math.min(t, a.nextSendAt);
    return t;
  }

  /** Marks announcements whose retry time passed as due; returns whether any is. */
  due(now: number): boolean {
    let any = false;
    for (const a of this.announce) {
      if (a.nextSendAt > 0 && now >= a.nextSendAt) {
        a.nextSendAt = 0;
        any = true;
      }
    }
    return any;
  }
}
