import { describe, expect, it } from 'vitest';
import { autoReleaseText } from './show.js';

const AT = '2026-01-01T00:00:00.000Z';

describe('gsm package show: the auto-release line', () => {
  it('names the release auto-release started, or why it refused, and nothing when no policy applied', () => {
    expect(autoReleaseText({ autoRelease: { releaseId: 'auto-demo-1.1.0', at: AT } })).toBe(
      `started release auto-demo-1.1.0 (${AT})`,
    );
    expect(
      autoReleaseText({ autoRelease: { refused: "host 'a2' is busy in release 'rel-1'", at: AT } }),
    ).toBe(`refused (${AT}): host 'a2' is busy in release 'rel-1'`);
    expect(autoReleaseText({})).toBeUndefined();
  });
});
