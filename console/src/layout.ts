import { Graph, layout } from '@dagrejs/dagre';
import type { EdgeKind, GraphNode, MachineGraph } from './graph.js';

/**
 * Positions for a workflow graph, by dagre. A Map or Parallel state is laid out from the inside
 * out: its nested machines first, then the state as one box big enough to hold them.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface LaidNode {
  readonly node: GraphNode;
  /** Top-left corner, in the coordinates of the machine holding it. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Nested machines, each placed at its offset inside this box. */
  readonly children?: ReadonlyArray<{
    readonly machine: LaidMachine;
    readonly x: number;
    readonly y: number;
  }>;
}

export interface LaidEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label?: string;
  readonly points: readonly Point[];
  readonly labelAt?: Point;
}

export interface LaidMachine {
  readonly scope: string;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LaidNode[];
  readonly edges: readonly LaidEdge[];
}

/** Roughly the advance of the console's 13 px sans-serif; labels get room to spare. */
const CHAR_WIDTH = 7.4;
const NODE_PADDING = 28;
const MIN_NODE_WIDTH = 120;
const MARKER = 18;
export const CONTAINER_HEADER = 40;
export const CONTAINER_PADDING = 14;
const BRANCH_GAP = 16;
const MARGIN = 12;

const stateSize = (node: GraphNode) => {
  const longest = Math.max(node.id.length, node.detail?.length ?? 0, node.type.length + 2);
  return {
    width: Math.max(MIN_NODE_WIDTH, Math.ceil(longest * CHAR_WIDTH) + NODE_PADDING),
    height: node.detail ? 52 : 40,
  };
};

const labelSize = (label: string | undefined) =>
  label ? { width: Math.ceil(label.length * 6.6) + 10, height: 18 } : { width: 0, height: 0 };

export const layoutMachine = (graph: MachineGraph): LaidMachine => {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 22, ranksep: 46, edgesep: 12, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));

  const nested = new Map<string, NonNullable<LaidNode['children']>>();
  for (const node of graph.nodes) {
    if (node.kind !== 'state') {
      g.setNode(node.id, { width: MARKER, height: MARKER });
      continue;
    }
    if (!node.children?.length) {
      g.setNode(node.id, stateSize(node));
      continue;
    }
    // Parallel branches one under the other, below the container's header (the flow runs left to right).
    const inner = node.children.map(layoutMachine);
    let y = CONTAINER_HEADER;
    const placed = inner.map((machine) => {
      const at = { machine, x: CONTAINER_PADDING, y };
      y += machine.height + BRANCH_GAP;
      return at;
    });
    nested.set(node.id, placed);
    const width = Math.max(
      stateSize(node).width,
      Math.max(...inner.map((m) => m.width)) + 2 * CONTAINER_PADDING,
    );
    const height = y - BRANCH_GAP + CONTAINER_PADDING;
    g.setNode(node.id, { width, height });
  }
  graph.edges.forEach((edge, index) => {
    g.setEdge(edge.from, edge.to, { ...labelSize(edge.label), labelpos: 'c', minlen: 1 }, `e${index}`);
  });

  layout(g);

  const nodes: LaidNode[] = graph.nodes.map((node) => {
    const { x = 0, y = 0, width, height } = g.node(node.id);
    const children = nested.get(node.id);
    return {
      node,
      x: x - width / 2,
      y: y - height / 2,
      width,
      height,
      ...(children ? { children } : {}),
    };
  });
  const edges: LaidEdge[] = graph.edges.map((edge, index) => {
    const laid = g.edge({ v: edge.from, w: edge.to, name: `e${index}` });
    const labelAt =
      edge.label && laid.x !== undefined && laid.y !== undefined ? { x: laid.x, y: laid.y } : undefined;
    return {
      from: edge.from,
      to: edge.to,
      kind: edge.kind,
      ...(edge.label ? { label: edge.label } : {}),
      points: laid.points ?? [],
      ...(labelAt ? { labelAt } : {}),
    };
  });
  const { width = 0, height = 0 } = g.graph();
  return { scope: graph.scope, width, height, nodes, edges };
};

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Where each state is in the whole drawing, nested ones included (their machines' offsets added). */
export const statePositions = (machine: LaidMachine, dx = 0, dy = 0, into = new Map<string, Box>()) => {
  for (const laid of machine.nodes) {
    if (laid.node.kind !== 'state') continue;
    const x = dx + laid.x;
    const y = dy + laid.y;
    into.set(laid.node.id, { x, y, width: laid.width, height: laid.height });
    for (const child of laid.children ?? []) statePositions(child.machine, x + child.x, y + child.y, into);
  }
  return into;
};
