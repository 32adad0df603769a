import { describe, expect, it } from 'vitest';
import { executionConsoleUrl } from './console-link.js';

const arn = 'arn:aws:states:eu-west-1:123456789012:execution:gsm-release:rel-1';

describe('executionConsoleUrl', () => {
  it('links an AWS execution to its page in the regional console', () => {
    expect(executionConsoleUrl(arn, false)).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${encodeURIComponent(arn)}`,
    );
  });

  it('gives no link for an emulated execution, a missing ARN or something that is not an execution ARN', () => {
    expect(executionConsoleUrl(arn, true)).toBeUndefined();
    expect(executionConsoleUrl(undefined, false)).toBeUndefined();
    expect(executionConsoleUrl('arn:aws:states:eu-west-1:1:stateMachine:gsm-release', false)).toBeUndefined();
    expect(executionConsoleUrl('not an arn', false)).toBeUndefined();
  });

  it('uses the China console for the aws-cn partition', () => {
    const cn = 'arn:aws-cn:states:cn-north-1:123456789012:execution:gsm-release:rel-1';
    expect(executionConsoleUrl(cn, false)).toMatch(/^https:\/\/cn-north-1\.console\.amazonaws\.cn\//);
  });
});
