/**
 * Contender "mptcp-proxy-cubic": this project as "mptcp-proxy", but with uncoupled CUBIC on
 * every subflow instead of the default coupled OLIA (issue 7: the default is chosen by
 * measuring both side by side).
 */
import { mptcpProxyContender } from './mptcp-proxy-shared.js';

export const contender = mptcpProxyContender('mptcp-proxy-cubic', 'this project with uncoupled CUBIC per subflow (default: coupled OLIA), userspace MPTCP at both ends', 'userspace', ['congestion: cubic']);
