/** The deterministic network simulator (issue 3): one import for stack tests. */
export { EventQueue } from './event-queue.js';
export { DEFAULT_LINK_CONFIG, Link, type GilbertElliott, type LinkConfig, type LinkCounters, type ScheduleDelivery } from './link.js';
export type { HostSpec, SimHost } from './host.js';
export { Simulator, type LinkPair, type PathSpec, type RouteSpec, type SimulatorOptions } from './network.js';
export { Router } from './router.js';
export { RouteTable } from './routing.js';
export { deriveSeed } from './seed.js';
export { fnv1a, formatRecord, TraceRecorder, type DropReason, type TraceEvent, type Tracer, type TraceRecord, type TraceRecorderOptions } from './trace.js';
