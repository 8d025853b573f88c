/**
 * The MPTCP constants (mptcp/wire/mptcp-option-types.ts) against RFC 8684: option kind 30
 * (§3, IANA TCP option kinds), subtypes (§8, Table 2), MP_CAPABLE flags (§3.1), DSS flags
 * (§3.3), MP_TCPRST reasons (§3.6).
 */
import { describe, expect, it } from 'vitest';
import {
  ADD_ADDR_FLAG_ECHO,
  BACKUP_FLAG,
  DSS_FLAG_ACK,
  DSS_FLAG_ACK64,
  DSS_FLAG_DATA_FIN,
  DSS_FLAG_DSN64,
  DSS_FLAG_MAPPING,
  MPC_FLAG_CHECKSUM,
  MPC_FLAG_EXTENSIBILITY,
  MPC_FLAG_HMAC_SHA256,
  MPC_FLAG_NO_JOIN_TO_INITIAL,
  MPC_FLAGS_RESERVED,
  MptcpSubtype,
  TCPOPT_MPTCP,
  TCPRST_FLAG_TRANSIENT,
  TcpRstReason,
} from '../../../mptcp/wire/mptcp-option-types.js';

describe('RFC 8684 constants', () => {
  it('option kind and subtypes', () => {
    expect(TCPOPT_MPTCP).toBe(30);
    expect(MptcpSubtype).toStrictEqual({
      MP_CAPABLE: 0x0,
      MP_JOIN: 0x1,
      DSS: 0x2,
      ADD_ADDR: 0x3,
      REMOVE_ADDR: 0x4,
      MP_PRIO: 0x5,
      MP_FAIL: 0x6,
      MP_FASTCLOSE: 0x7,
      MP_TCPRST: 0x8,
      MP_EXPERIMENTAL: 0xf,
    });
  });
  it('MP_CAPABLE flags A B C D-G H, in that order from the high bit', () => {
    expect([MPC_FLAG_CHECKSUM, MPC_FLAG_EXTENSIBILITY, MPC_FLAG_NO_JOIN_TO_INITIAL, MPC_FLAGS_RESERVED, MPC_FLAG_HMAC_SHA256]).toEqual([
      0x80, 0x40, 0x20, 0x1e, 0x01,
    ]);
  });
  it('DSS flags F m M a A, in that order from bit 4', () => {
    expect([DSS_FLAG_DATA_FIN, DSS_FLAG_DSN64, DSS_FLAG_MAPPING, DSS_FLAG_ACK64, DSS_FLAG_ACK]).toEqual([0x10, 0x08, 0x04, 0x02, 0x01]);
  });
  it('low-bit flags: B (MP_JOIN, MP_PRIO), E (ADD_ADDR), T (MP_TCPRST)', () => {
    expect([BACKUP_FLAG, ADD_ADDR_FLAG_ECHO, TCPRST_FLAG_TRANSIENT]).toEqual([1, 1, 1]);
  });
  it('MP_TCPRST reason codes 0-6', () => {
    expect(TcpRstReason).toStrictEqual({
      UNSPECIFIED: 0,
      MPTCP_ERROR: 1,
      LACK_OF_RESOURCES: 2,
      ADMINISTRATIVELY_PROHIBITED: 3,
      TOO_MUCH_OUTSTANDING_DATA: 4,
      UNACCEPTABLE_PERFORMANCE: 5,
      MIDDLEBOX_INTERFERENCE: 6,
    });
  });
});
