/**
 * Contender "mptcp-proxy-kagg": this project with the aggregator on the kernel's MPTCP
 * (IPPROTO_MPTCP socket) and our userspace MPTCP on the client.
 */
import { mptcpProxyContender } from './mptcp-proxy-shared.js';

export const contender = mptcpProxyContender('mptcp-proxy-kagg', 'this project: our userspace MPTCP client -> aggregator on kernel MPTCP, TLS 1.3', 'kernel');
