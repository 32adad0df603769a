import { describe, expect, it } from 'vitest';
import { CrashTracker, DEFAULT_RESTART_POLICY } from './crash.js';

const policy = {
  ...DEFAULT_RESTART_POLICY,
  initialDelayMs: 1000,
  maxDelayMs: 8000,
  maxCrashes: 6,
  windowMs: 60_000,
};

describe('CrashTracker', () => {
  it('doubles the delay per quick crash up to the maximum', () => {
    const tracker = new CrashTracker(policy);
    const delays = [0, 1, 2, 3, 4].map((i) => {
      const decision = tracker.record(10, i * 100);
      return decision.restart ? decision.delayMs : -1;
    });
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('resets the backoff after a stable run', () => {
    const tracker = new CrashTracker(policy);
    tracker.record(10, 0);
    tracker.record(10, 1);
    expect(tracker.record(policy.stableAfterMs, 2)).toMatchObject({
      restart: true,
      delayMs: 1000,
      attempt: 1,
    });
  });

  it('declares a crash loop past maxCrashes within the window, and forgets crashes outside it', () => {
    const tracker = new CrashTracker({ ...policy, maxCrashes: 2, windowMs: 1000 });
    expect(tracker.record(10, 0).restart).toBe(true);
    expect(tracker.record(10, 100).restart).toBe(true);
    expect(tracker.record(10, 5000).restart).toBe(true);
    expect(tracker.record(10, 5100).restart).toBe(true);
    expect(tracker.record(10, 5200)).toEqual({ restart: false, crashLoop: true, crashes: 3 });
    expect(tracker.crashLoop).toBe(true);
    tracker.reset();
    expect(tracker.crashLoop).toBe(false);
  });
});
