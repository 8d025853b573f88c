/** The client's event counters (see Counters). */
import { Counters } from '../util/counters.js';

export type ClientCounter =
  | 'connections'
  | 'unknownProtocol'
  | 'handshakeTimeout'
  | 'socksRequests'
  | 'socksBadGreeting'
  | 'socksBadAuth'
  | 'socksAuthFailed'
  | 'socksBadRequest'
  | 'socksUnsupportedCommand'
  | 'httpRequests'
  | 'httpConnect'
  | 'httpBadRequest'
  | 'httpAuthFailed'
  | 'pacServed'
  | 'tunnelsOk'
  | 'tunnelsFailed'
  | 'relayErrors'
  /** Bytes relayed from applications towards destinations, and back. */
  | 'bytesUp'
  | 'bytesDown'
  /** Configuration reloads: applied, or refused because the new file was invalid. */
  | 'configReloadsOk'
  | 'configReloadsInvalid';

export const newClientCounters = () => new Counters<ClientCounter>();
export type ClientCounters = Counters<ClientCounter>;
