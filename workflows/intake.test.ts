import { describe, expect, it } from 'vitest';
import { IntakeHashPending, IntakeRefused } from '../functions/tasks/intake-register/register.js';
import {
  AUTO_RELEASE_FUNCTION,
  INTAKE_HASH_PENDING,
  INTAKE_REFUSED,
  INTAKE_REGISTER_FUNCTION,
  intakeDefinition,
  PLAN_STAGING_FUNCTION,
  VERIFY_ORIGINS_FUNCTION,
  VERIFY_PACKAGE_FUNCTION,
} from './intake.js';

const RELAY = 'arn:aws:states:us-east-1:123456789012:activity:gsm-relay';

describe('intakeDefinition', () => {
  it('retries and catches the errors the register task really throws (by name)', () => {
    expect(new IntakeHashPending('k').name).toBe(INTAKE_HASH_PENDING);
    expect(new IntakeRefused('x').name).toBe(INTAKE_REFUSED);
    const register = intakeDefinition({ relayActivityArn: RELAY }).States.Register;
    const retry = register && 'Retry' in register ? (register.Retry ?? []) : [];
    expect(retry.some((r) => r.ErrorEquals.includes(INTAKE_HASH_PENDING))).toBe(true);
  });

  it('invokes exactly the five intake functions and stages through the relay activity', () => {
    const text = JSON.stringify(intakeDefinition({ relayActivityArn: RELAY }));
    const functions = new Set([...text.matchAll(/"FunctionName":"([^"]+)"/g)].map((m) => m[1]));
    expect([...functions].sort()).toEqual(
      [
        INTAKE_REGISTER_FUNCTION,
        VERIFY_PACKAGE_FUNCTION,
        PLAN_STAGING_FUNCTION,
        VERIFY_ORIGINS_FUNCTION,
        AUTO_RELEASE_FUNCTION,
      ].sort(),
    );
    expect(text).toContain(`"Resource":"${RELAY}"`);
  });

  it('names its own execution to both verify states, which claim the verification with it', () => {
    const { States } = intakeDefinition({ relayActivityArn: RELAY });
    for (const name of ['Verify', 'RejectUnverifiable']) {
      const state = States[name];
      const parameters = state && 'Parameters' in state ? state.Parameters : undefined;
      expect(parameters).toMatchObject({ Payload: { 'executionName.$': '$$.Execution.Name' } });
    }
  });

  it('catches staging that fails past its retries: the package is put back, then the execution fails', () => {
    const { States } = intakeDefinition({ relayActivityArn: RELAY });
    for (const name of ['PlanStaging', 'VerifyOrigins']) {
      const state = States[name];
      const catches = state && 'Catch' in state ? (state.Catch ?? []) : [];
      expect(catches).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.stagingError', Next: 'AbandonStaging' },
      ]);
    }
    const abandon = States.AbandonStaging;
    expect(abandon && 'Parameters' in abandon ? abandon.Parameters : undefined).toMatchObject({
      FunctionName: VERIFY_ORIGINS_FUNCTION,
      Payload: { abandon: { 'error.$': '$.stagingError', 'executionName.$': '$$.Execution.Name' } },
    });
    expect(abandon && 'Next' in abandon ? abandon.Next : undefined).toBe('StagingFailed');
    expect(States.StagingFailed).toMatchObject({ Type: 'Fail', Error: 'GsmStagingFailed' });
  });

  it('asks for an auto-release only once staging is done, and never fails the intake over it', () => {
    const { States } = intakeDefinition({ relayActivityArn: RELAY });
    const staged = States.StagingDone as unknown as { Choices: { Next: string }[] };
    const auto = States.AutoRelease as unknown as {
      Next: string;
      Catch: { ErrorEquals: string[]; Next: string }[];
    };

    expect(staged.Choices[0]?.Next).toBe('AutoRelease');
    expect(auto.Next).toBe('Done');
    expect(auto.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Done' })]);
  });

  it('keeps every task timeout within what the emulator can time (≤ 2147483 s)', () => {
    const timeouts = [
      ...JSON.stringify(intakeDefinition({ relayActivityArn: RELAY })).matchAll(/"TimeoutSeconds":(\d+)/g),
    ];
    expect(timeouts.length).toBeGreaterThan(0);
    for (const [, seconds] of timeouts) expect(Number(seconds)).toBeLessThanOrEqual(2_147_483);
  });
});
