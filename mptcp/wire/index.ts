/**
 * The wire layer: pure codecs for IPv4, IPv6, TCP and MPTCP v1 options, checksums and
 * MPTCP crypto. No I/O, no clocks, no randomness. Everything above depends on this; this
 * depends on nothing but node:crypto.
 */
export * from './result.js';
export * from './bytes.js';
export * from './checksum.js';
export * from './ip-address.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './tcp-options.js';
export * from './tcp-header.js';
export * from './mptcp-option-types.js';
export * from './mptcp-options.js';
export * from './dss.js';
export * from './crypto.js';
export * from './packet.js';
export * from './segment-view.js';
