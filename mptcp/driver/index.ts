/**
 * The drivers: the only code touching sockets, clocks and randomness. Today the raw-socket
 * driver: the native binding and its loader, the BPF port filter, the nftables RST guard, our
 * port ranges, and RawSocketDriver, which runs a PacketEndpoint on raw sockets.
 */
export * from './binding.js';
export * from './bpf.js';
export * from './nft-guard.js';
export * from './ports.js';
export * from './raw-driver.js';
export * from './crypto-random.js';
export * from './interface-watcher.js';
