import { describe, expect, it } from 'vitest';
import { HostJobSpec, jobIdFor, RelayTaskInput } from './relay.js';

describe('the workflow-relay contract', () => {
  it('builds job ids the agent protocol accepts', () => {
    const jobId = jobIdFor('act-20261125-abc', 'demo-01', 'start');
    expect(HostJobSpec.safeParse({ jobId, hostId: 'demo-01', action: 'start' }).success).toBe(true);
  });

  it.each(['pkg@1.0.0.origin-1.stage', 'a+b', '.leading-dot', 'x'.repeat(129), 'has space'])(
    'refuses the job id %s before anything is dispatched',
    (jobId) => {
      const input = {
        parentType: 'action',
        parentId: 'act-1',
        jobs: [{ jobId, hostId: 'demo-01', action: 'start' }],
        maxConcurrency: 1,
        maxErrors: 0,
        jobTimeoutSec: 60,
      };
      const result = RelayTaskInput.safeParse(input);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['jobs', 0, 'jobId']);
    },
  );

  it('refuses a command line where an action belongs', () => {
    expect(HostJobSpec.safeParse({ jobId: 'j-1', hostId: 'h-1', action: 'start; rm -rf /' }).success).toBe(
      false,
    );
  });
});
