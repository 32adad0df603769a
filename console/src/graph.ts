/**
 * An ASL definition as a graph to draw: one node per state (Map and Parallel states hold their
 * nested machines), one edge per transition: Next, each Choice rule and its Default, each Catch.
 * Pure data: the layout (layout.ts) and the drawing (workflow-graph.tsx) build on it.
 */

export type StateStatus = 'not-started' | 'running' | 'succeeded' | 'failed' | 'caught';

export interface AslMachine {
  readonly StartAt?: string;
  readonly States?: Readonly<Record<string, AslState>>;
  readonly Comment?: string;
}

export interface AslState {
  readonly Type?: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly ChoiceRule[];
  readonly Catch?: ReadonlyArray<{ readonly ErrorEquals?: readonly string[]; readonly Next?: string }>;
  readonly ItemProcessor?: AslMachine;
  readonly Iterator?: AslMachine;
  readonly Branches?: readonly AslMachine[];
  readonly Resource?: string;
  readonly Comment?: string;
}

export type ChoiceRule = Readonly<Record<string, unknown>> & { readonly Next?: string };

export type EdgeKind = 'start' | 'next' | 'choice' | 'default' | 'catch' | 'end';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label?: string;
}

export interface GraphNode {
  /** The ASL state name, or `<scope>#start` / `<scope>#end` for a machine's entry and exits. */
  readonly id: string;
  readonly kind: 'state' | 'start' | 'end';
  readonly type: string;
  /** A short second line: the task's function or activity, or how many branches. */
  readonly detail?: string;
  /** Map and Parallel: their nested machines, each a graph of its own. */
  readonly children?: readonly MachineGraph[];
}

export interface MachineGraph {
  /** Unique per machine: `root`, then the holding state's name and branch index. */
  readonly scope: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const COMPARISONS: ReadonlyArray<[prefix: string, symbol: string]> = [
  ['GreaterThanEquals', '≥'],
  ['LessThanEquals', '≤'],
  ['GreaterThan', '>'],
  ['LessThan', '<'],
  ['Equals', '=='],
  ['Matches', '~'],
];

const MAX_LABEL = 32;

const shorten = (text: string): string =>
  text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;

const shortPath = (path: unknown): string =>
  typeof path === 'string' ? path.replace(/^\$\.?/, '') || '$' : String(path);

/** A Choice rule as a short readable condition: `state == "x"`, `waves present`, `not (…)`. */
export const describeRule = (rule: Readonly<Record<string, unknown>>): string => {
  if (Array.isArray(rule.And)) return rule.And.map((r) => describeRule(r as ChoiceRule)).join(' and ');
  if (Array.isArray(rule.Or)) return rule.Or.map((r) => describeRule(r as ChoiceRule)).join(' or ');
  if (rule.Not && typeof rule.Not === 'object') return `not (${describeRule(rule.Not as ChoiceRule)})`;
  const variable = shortPath(rule.Variable);
  for (const [key, value] of Object.entries(rule)) {
    if (key === 'Variable' || key === 'Next') continue;
    if (key.startsWith('Is')) {
      const test = key.slice(2).toLowerCase();
      return value === false ? `${variable} not ${test}` : `${variable} ${test}`;
    }
    const comparison = COMPARISONS.find(([suffix]) => key.endsWith(suffix) || key.endsWith(`${suffix}Path`));
    if (comparison) {
      const shown = key.endsWith('Path') ? shortPath(value) : JSON.stringify(value);
      return `${variable} ${comparison[1]} ${shown}`;
    }
  }
  return variable;
};

/** The function or activity a Task runs, in a few characters. */
const taskDetail = (state: AslState, parameters: unknown): string | undefined => {
  const fromParameters =
    parameters && typeof parameters === 'object'
      ? (parameters as Record<string, unknown>).FunctionName
      : undefined;
  const source = typeof fromParameters === 'string' ? fromParameters : state.Resource;
  if (!source) return undefined;
  const waits = source.endsWith('.waitForTaskToken');
  const plain = source.replace(/\.waitForTaskToken$/, '');
  // arn:aws:states:::lambda:invoke is a service integration: its name is after the ':::'.
  const integration = plain.split(':::')[1];
  const name =
    integration ??
    plain
      .split(':')
      .filter((part) => part && !part.startsWith('$'))
      .at(-1) ??
    plain;
  return shorten(waits ? `${name} (waits)` : name);
};

const detailOf = (state: AslState & { Parameters?: unknown }): string | undefined => {
  if (state.Type === 'Task') return taskDetail(state, state.Parameters);
  if (state.Type === 'Parallel') return `${state.Branches?.length ?? 0} branches`;
  if (state.Type === 'Map') return 'for each item';
  return undefined;
};

/** Builds the graph of one machine; nested machines become the children of their state. */
export const buildGraph = (machine: AslMachine, scope = 'root'): MachineGraph => {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const start = `${scope}#start`;
  const end = `${scope}#end`;
  const states = Object.entries(machine.States ?? {});
  nodes.push({ id: start, kind: 'start', type: 'Start' });
  if (machine.StartAt) edges.push({ from: start, to: machine.StartAt, kind: 'start' });
  let ends = false;

  for (const [name, state] of states) {
    const nested = state.ItemProcessor ?? state.Iterator;
    const children = nested
      ? [buildGraph(nested, name)]
      : state.Branches?.map((branch, index) => buildGraph(branch, `${name}[${index}]`));
    const detail = detailOf(state);
    nodes.push({
      id: name,
      kind: 'state',
      type: state.Type ?? '?',
      ...(detail ? { detail } : {}),
      ...(children ? { children } : {}),
    });
    if (state.Next) edges.push({ from: name, to: state.Next, kind: 'next' });
    for (const rule of state.Choices ?? []) {
      if (rule.Next)
        edges.push({ from: name, to: rule.Next, kind: 'choice', label: shorten(describeRule(rule)) });
    }
    if (state.Default) edges.push({ from: name, to: state.Default, kind: 'default', label: 'otherwise' });
    for (const catcher of state.Catch ?? []) {
      if (!catcher.Next) continue;
      const errors = (catcher.ErrorEquals ?? []).join(', ');
      edges.push({ from: name, to: catcher.Next, kind: 'catch', label: shorten(`catch ${errors}`) });
    }
    if (state.End || state.Type === 'Succeed' || state.Type === 'Fail') {
      edges.push({ from: name, to: end, kind: 'end' });
      ends = true;
    }
  }
  if (ends) nodes.push({ id: end, kind: 'end', type: 'End' });
  // A transition to a state the machine does not have would break the layout: drop it.
  const ids = new Set(nodes.map((node) => node.id));
  return { scope, nodes, edges: edges.filter((edge) => ids.has(edge.from) && ids.has(edge.to)) };
};

/** Every state name of a graph, nested ones included. */
export const stateNames = (graph: MachineGraph): string[] =>
  graph.nodes.flatMap((node) =>
    node.kind === 'state' ? [node.id, ...(node.children ?? []).flatMap(stateNames)] : [],
  );
