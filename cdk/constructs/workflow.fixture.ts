import type { AslDefinition } from './workflow.js';

/**
 * A small definition in the shape workflows/ produces for the emulator: a Pass, a
 * `lambda:invoke` Task naming its function by name, a Task on a function ARN inside a Map,
 * and an activity Task with a heartbeat.
 */
export const EXAMPLE_DEFINITION: AslDefinition = {
  Comment: 'example: plan, hand shards to the relay, evaluate',
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Pass', Result: { wave: 0 }, ResultPath: '$.progress', Next: 'Plan' },
    Plan: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'plan-waves', 'Payload.$': '$' },
      ResultSelector: { 'waves.$': '$.Payload.waves' },
      ResultPath: '$.plan',
      Retry: [{ ErrorEquals: ['Lambda.TooManyRequestsException'], MaxAttempts: 3, BackoffRate: 2 }],
      Next: 'Waves',
    },
    Waves: {
      Type: 'Map',
      ItemsPath: '$.plan.waves',
      MaxConcurrency: 1,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'RunWave',
        States: {
          RunWave: {
            Type: 'Task',
            Resource: 'arn:aws:states:us-east-1:123456789012:activity:gsm-relay',
            TimeoutSeconds: 3600,
            HeartbeatSeconds: 60,
            Next: 'Evaluate',
          },
          Evaluate: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:123456789012:function:evaluate-wave',
            End: true,
          },
        },
      },
      End: true,
    },
  },
};

export const EXAMPLE_TASKS = {
  'plan-waves': 'functions/api/lambda.ts',
  'evaluate-wave': 'functions/api/lambda.ts',
} as const;
