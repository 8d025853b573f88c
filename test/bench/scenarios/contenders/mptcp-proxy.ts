/**
 * Contender "mptcp-proxy": this project, our userspace MPTCP at both ends (client on every
 * path, aggregator), TLS 1.3 between them, SOCKS5 at the client.
 */
import { mptcpProxyContender } from './mptcp-proxy-shared.js';

export const contender = mptcpProxyContender('mptcp-proxy', 'this project: SOCKS5 client -> aggregator over our userspace MPTCP at both ends, TLS 1.3', 'userspace');
