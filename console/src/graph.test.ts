import { describe, expect, it } from 'vitest';
import { buildGraph, describeRule, stateNames } from './graph.js';
import { layoutMachine, statePositions } from './layout.js';

/** The shape of gsm-release in small: a Choice, a Catch, the wave loop and a Map with its own catch. */
const RELEASE_LIKE = {
  StartAt: 'Plan',
  States: {
    Plan: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:1:function:gsm-plan-release', 'Payload.$': '$' },
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Finalize' }],
      Next: 'Pick',
    },
    Pick: { Type: 'Pass', Next: 'Gate' },
    Gate: {
      Type: 'Choice',
      Choices: [{ Variable: '$.wave.gate', BooleanEquals: true, Next: 'Approve' }],
      Default: 'Run',
    },
    Approve: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Next: 'Run' },
    Run: {
      Type: 'Map',
      ItemProcessor: {
        StartAt: 'Shard',
        States: {
          Shard: {
            Type: 'Task',
            Resource: 'arn:aws:states:us-east-1:1:activity:gsm-relay',
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'ShardFailed' }],
            End: true,
          },
          ShardFailed: { Type: 'Pass', End: true },
        },
      },
      Next: 'Decide',
    },
    Decide: {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.more', IsPresent: true },
            { Variable: '$.left', NumericGreaterThan: 0 },
          ],
          Next: 'Pick',
        },
      ],
      Default: 'Finalize',
    },
    Finalize: { Type: 'Succeed' },
  },
};

describe('buildGraph: ASL → nodes and edges', () => {
  it('makes one node per state plus the entry and the exit', () => {
    const graph = buildGraph(RELEASE_LIKE);

    expect(graph.nodes.map((node) => [node.id, node.kind, node.type])).toEqual([
      ['root#start', 'start', 'Start'],
      ['Plan', 'state', 'Task'],
      ['Pick', 'state', 'Pass'],
      ['Gate', 'state', 'Choice'],
      ['Approve', 'state', 'Task'],
      ['Run', 'state', 'Map'],
      ['Decide', 'state', 'Choice'],
      ['Finalize', 'state', 'Succeed'],
      ['root#end', 'end', 'End'],
    ]);
  });

  it('draws Next, each Choice rule with its condition, the Default, every Catch and the wave loop', () => {
    const { edges } = buildGraph(RELEASE_LIKE);

    expect(edges).toEqual([
      { from: 'root#start', to: 'Plan', kind: 'start' },
      { from: 'Plan', to: 'Pick', kind: 'next' },
      { from: 'Plan', to: 'Finalize', kind: 'catch', label: 'catch States.ALL' },
      { from: 'Pick', to: 'Gate', kind: 'next' },
      { from: 'Gate', to: 'Approve', kind: 'choice', label: 'wave.gate == true' },
      { from: 'Gate', to: 'Run', kind: 'default', label: 'otherwise' },
      { from: 'Approve', to: 'Run', kind: 'next' },
      { from: 'Run', to: 'Decide', kind: 'next' },
      { from: 'Decide', to: 'Pick', kind: 'choice', label: 'more present and left > 0' },
      { from: 'Decide', to: 'Finalize', kind: 'default', label: 'otherwise' },
      { from: 'Finalize', to: 'root#end', kind: 'end' },
    ]);
  });

  it('nests a Map iterator as a machine of its own inside the Map state, with its catch', () => {
    const run = buildGraph(RELEASE_LIKE).nodes.find((node) => node.id === 'Run');
    const iterator = run?.children?.[0];

    expect(run?.children).toHaveLength(1);
    expect(iterator?.scope).toBe('Run');
    expect(iterator?.edges).toContainEqual({
      from: 'Shard',
      to: 'ShardFailed',
      kind: 'catch',
      label: 'catch States.ALL',
    });
    expect(iterator?.edges).toContainEqual({ from: 'Run#start', to: 'Shard', kind: 'start' });
  });

  it('names what a task runs: the function, the activity, a token wait', () => {
    const details = Object.fromEntries(buildGraph(RELEASE_LIKE).nodes.map((node) => [node.id, node.detail]));
    const shard = buildGraph(RELEASE_LIKE).nodes.find((n) => n.id === 'Run')?.children?.[0]?.nodes[1];

    expect(details.Plan).toBe('gsm-plan-release');
    expect(details.Approve).toBe('lambda:invoke (waits)');
    expect(details.Run).toBe('for each item');
    expect(shard?.detail).toBe('gsm-relay');
  });

  it('gives each Parallel branch its own scope and drops transitions to states that do not exist', () => {
    const graph = buildGraph({
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
            { StartAt: 'B', States: { B: { Type: 'Pass', Next: 'Nowhere' } } },
          ],
          End: true,
        },
      },
    });
    const both = graph.nodes.find((node) => node.id === 'Both');

    expect(both?.children?.map((child) => child.scope)).toEqual(['Both[0]', 'Both[1]']);
    expect(both?.detail).toBe('2 branches');
    expect(both?.children?.[1]?.edges).toEqual([{ from: 'Both[1]#start', to: 'B', kind: 'start' }]);
    expect(stateNames(graph)).toEqual(['Both', 'A', 'B']);
  });

  it.each([
    [{ Variable: '$.state', StringEquals: 'ok' }, 'state == "ok"'],
    [{ Variable: '$.n', NumericLessThanEqualsPath: '$.max' }, 'n ≤ max'],
    [{ Variable: '$.x', IsNull: false }, 'x not null'],
    [{ Not: { Variable: '$', IsPresent: true } }, 'not ($ present)'],
    [
      {
        Or: [
          { Variable: '$.a', StringMatches: 'x*' },
          { Variable: '$.b', TimestampGreaterThan: 't' },
        ],
      },
      'a ~ "x*" or b > "t"',
    ],
  ])('describes the rule %j as %s', (rule, text) => {
    expect(describeRule(rule)).toBe(text);
  });
});

describe('layoutMachine', () => {
  it('places every node inside the drawing and the Map iterator inside the Map box', () => {
    const laid = layoutMachine(buildGraph(RELEASE_LIKE));
    const run = laid.nodes.find((n) => n.node.id === 'Run')!;
    const iterator = run.children![0]!;

    for (const node of laid.nodes) {
      expect(node.x).toBeGreaterThanOrEqual(0);
      expect(node.y).toBeGreaterThanOrEqual(0);
      expect(node.x + node.width).toBeLessThanOrEqual(laid.width);
      expect(node.y + node.height).toBeLessThanOrEqual(laid.height);
    }
    expect(iterator.x + iterator.machine.width).toBeLessThanOrEqual(run.width);
    expect(iterator.y + iterator.machine.height).toBeLessThanOrEqual(run.height);
    expect(laid.edges).toHaveLength(11);
    expect(laid.edges.every((edge) => edge.points.length >= 2)).toBe(true);
    expect(laid.edges.find((edge) => edge.kind === 'choice')?.labelAt).toBeDefined();
  });

  it('ranks states in flow order, left to right: the entry, the first state, then the last', () => {
    const laid = layoutMachine(buildGraph(RELEASE_LIKE));
    const x = (id: string) => laid.nodes.find((n) => n.node.id === id)!.x;

    expect(x('root#start')).toBeLessThan(x('Plan'));
    expect(x('Plan')).toBeLessThan(x('Gate'));
    expect(x('Run')).toBeLessThan(x('Finalize'));
  });

  it('places nested states inside their container in whole-drawing coordinates', () => {
    const laid = layoutMachine(buildGraph(RELEASE_LIKE));
    const at = statePositions(laid);
    const run = at.get('Run')!;
    const shard = at.get('Shard')!;

    expect([...at.keys()].sort()).toEqual(
      ['Approve', 'Decide', 'Finalize', 'Gate', 'Pick', 'Plan', 'Run', 'Shard', 'ShardFailed'].sort(),
    );
    expect(shard.x).toBeGreaterThan(run.x);
    expect(shard.y).toBeGreaterThan(run.y);
    expect(shard.x + shard.width).toBeLessThanOrEqual(run.x + run.width);
    expect(shard.y + shard.height).toBeLessThanOrEqual(run.y + run.height);
  });
});
