/**
 * One emulated path, sans-IO: its two directions (uplink = client -> aggregator, downlink =
 * aggregator -> client), its state (up, blackhole, down) and its script of timed changes.
 * `nextDeadline()` is the earliest of both directions' next frame and the next script step;
 * `advance(now)` runs the script steps due. The process around it (main.ts) moves the frames
 * and performs what a state change means outside (turning interfaces off and on).
 */
import type { Random } from '../../../mptcp/core/sans-io.js';
import type { PathConfig, PathState } from '../link-config.js';
import { DirectionShaper } from './shaper.js';

/** A change at `atMs` after the script started, to a whole path configuration. */
export interface ScriptStep {
  atMs: number;
  config: PathConfig;
}

export class PathEmulator {
  readonly uplink: DirectionShaper;
  readonly downlink: DirectionShaper;
  private current: PathConfig;
  private steps: readonly ScriptStep[] = [];
  private next = 0;
  private origin = 0;
  private repeatMs = 0;

  constructor(config: PathConfig, random: Random) {
    this.uplink = new DirectionShaper(config.uplink, random);
    this.downlink = new DirectionShaper(config.downlink, random);
    this.current = config;
    this.setState(config.state, () => undefined);
  }

  get config(): PathConfig {
    return this.current;
  }

  /**
   * Applies a whole configuration now. `release` gets the id of every frame dropped because
   * the path stopped forwarding. Returns the new state when it changed, else null.
   */
  apply(config: PathConfig, release: (id: number) => void): PathState | null {
    const before = this.current.state;
    this.uplink.configure(config.uplink);
    this.downlink.configure(config.downlink);
    this.current = config;
    this.setState(config.state, release);
    return config.state === before ? null : config.state;
  }

  /**
   * Starts a script at `now` (replacing any running one): each step applies at now + atMs, in
   * order. With repeatMs > 0 the script starts over every repeatMs (a cyclic trace).
   */
  startScript(now: number, steps: readonly ScriptStep[], repeatMs = 0): void {
    this.steps = [...steps].sort((a, b) => a.atMs - b.atMs);
    if (repeatMs > 0 && this.steps.length > 0 && this.steps[this.steps.length - 1].atMs >= repeatMs) {
      throw new RangeError(`script: a step at ${this.steps[this.steps.length - 1].atMs} ms is not inside the repeat period of ${repeatMs} ms`);
    }
    this.origin = now;
    this.next = 0;
    this.repeatMs = repeatMs;
  }

  /** Steps not yet applied (Infinity when repeating). */
  pendingSteps(): number {
    return this.repeatMs > 0 && this.steps.length > 0 ? Infinity : this.steps.length - this.next;
  }

  nextDeadline(): number {
    const a = this.uplink.nextDue();
    const b = this.downlink.nextDue();
    const s = this.nextStepAt();
    return Math.min(a, b, s);
  }

  /**
   * Applies the script steps due at `now`. Returns the last state change they made (or null);
   * `release` as in apply().
   */
  advance(now: number, release: (id: number) => void): PathState | null {
    let changed: PathState | null = null;
    while (this.nextStepAt() <= now) {
      const step = this.steps[this.next++];
      const c = this.apply(step.config, release);
      if (c !== null) changed = c;
      if (this.next === this.steps.length && this.repeatMs > 0) {
        this.next = 0;
        this.origin += this.repeatMs;
      }
    }
    return changed;
  }

  private nextStepAt(): number {
    return this.next < this.steps.length ? this.origin + this.steps[this.next].atMs : Infinity;
  }

  private setState(state: PathState, release: (id: number) => void): void {
    const blocked = state !== 'up';
    this.uplink.setBlocked(blocked, release);
    this.downlink.setBlocked(blocked, release);
  }
}
