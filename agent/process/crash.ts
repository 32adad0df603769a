/**
 * Crash restarts (Wings' server/crash.go): exponential backoff between restarts, and a crash
 * loop — too many crashes within a window — stops restarting until someone starts it again.
 */
export interface RestartPolicy {
  readonly enabled: boolean;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  /** More crashes than this within `windowMs` is a crash loop: no more restarts. */
  readonly maxCrashes: number;
  readonly windowMs: number;
  /** A run this long resets the backoff. */
  readonly stableAfterMs: number;
  /** A game that exits 0 by itself is restarted only when this is set. */
  readonly restartOnCleanExit: boolean;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  enabled: true,
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  factor: 2,
  maxCrashes: 5,
  windowMs: 5 * 60_000,
  stableAfterMs: 60_000,
  restartOnCleanExit: false,
};

export type CrashDecision =
  | { readonly restart: true; readonly delayMs: number; readonly attempt: number }
  | { readonly restart: false; readonly crashLoop: true; readonly crashes: number };

export class CrashTracker {
  private crashes: number[] = [];
  private consecutive = 0;
  private loop = false;

  constructor(private readonly policy: RestartPolicy) {}

  get crashLoop(): boolean {
    return this.loop;
  }

  /** An explicit start or restart forgives earlier crashes. */
  reset(): void {
    this.crashes = [];
    this.consecutive = 0;
    this.loop = false;
  }

  /** Records a crash of a run that lasted `ranForMs` and decides what happens next. */
  record(ranForMs: number, now = Date.now()): CrashDecision {
    const policy = this.policy;
    this.crashes = [...this.crashes.filter((t) => now - t < policy.windowMs), now];
    if (this.crashes.length > policy.maxCrashes) {
      this.loop = true;
      return { restart: false, crashLoop: true, crashes: this.crashes.length };
    }
    this.consecutive = ranForMs >= policy.stableAfterMs ? 1 : this.consecutive + 1;
    const delayMs = Math.min(
      policy.initialDelayMs * policy.factor ** (this.consecutive - 1),
      policy.maxDelayMs,
    );
    return { restart: true, delayMs, attempt: this.consecutive };
  }
}
