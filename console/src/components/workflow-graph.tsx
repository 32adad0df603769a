import type { TargetedKeyboardEvent, TargetedPointerEvent, TargetedWheelEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { StateStatus } from '../api.js';
import { type AslMachine, buildGraph } from '../graph.js';
import {
  CONTAINER_HEADER,
  type LaidEdge,
  type LaidMachine,
  type LaidNode,
  layoutMachine,
  statePositions,
} from '../layout.js';

interface View {
  readonly scale: number;
  readonly x: number;
  readonly y: number;
}

const MIN_SCALE = 0.2;
const MAX_SCALE = 3;
const READABLE_SCALE = 0.7;
const clampScale = (scale: number) => Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));

const STATUS_TEXT: Readonly<Record<StateStatus, string>> = {
  'not-started': 'not started',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  caught: 'failed, caught',
};

const pathOf = (edge: LaidEdge): string =>
  edge.points
    .map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`)
    .join(' ');

const Edge = ({ edge }: { edge: LaidEdge }) => (
  <g class={`edge edge-${edge.kind}`}>
    <path d={pathOf(edge)} marker-end={`url(#arrow-${edge.kind === 'catch' ? 'catch' : 'plain'})`} />
    {edge.label && edge.labelAt ? (
      <g class="edge-label" transform={`translate(${edge.labelAt.x},${edge.labelAt.y})`}>
        <rect
          x={-(edge.label.length * 3.3 + 5)}
          y={-9}
          width={edge.label.length * 6.6 + 10}
          height={18}
          rx={4}
        />
        <text text-anchor="middle" dy="4">
          {edge.label}
        </text>
      </g>
    ) : null}
  </g>
);

const StateBox = ({
  laid,
  statuses,
}: {
  laid: LaidNode;
  statuses: Readonly<Record<string, StateStatus>>;
}) => {
  const { node } = laid;
  if (node.kind !== 'state') {
    const r = laid.width / 2;
    return (
      <circle
        class={`marker marker-${node.kind}`}
        cx={laid.x + r}
        cy={laid.y + r}
        r={node.kind === 'end' ? r - 2 : r - 3}
      />
    );
  }
  const status = statuses[node.id] ?? 'not-started';
  const container = Boolean(laid.children);
  const label = `${node.id}, ${node.type}${node.detail ? ` (${node.detail})` : ''}: ${STATUS_TEXT[status]}`;
  return (
    <g
      class={`state type-${node.type.toLowerCase()} status-${status}${container ? ' container' : ''}`}
      data-state={node.id}
      data-status={status}
      transform={`translate(${laid.x},${laid.y})`}
    >
      <title>{label}</title>
      <rect class="box" width={laid.width} height={laid.height} rx={node.type === 'Choice' ? 18 : 8} />
      <text class="name" x={12} y={container ? 18 : 18}>
        {node.id}
      </text>
      <text class="kind" x={12} y={container ? 33 : 33}>
        {node.type}
        {node.detail ? ` · ${node.detail}` : ''}
      </text>
      {container ? (
        <line class="divider" x1={0} x2={laid.width} y1={CONTAINER_HEADER - 2} y2={CONTAINER_HEADER - 2} />
      ) : null}
      {laid.children?.map((child) => (
        <g key={child.machine.scope} transform={`translate(${child.x},${child.y})`}>
          <Machine machine={child.machine} statuses={statuses} />
        </g>
      ))}
    </g>
  );
};

const Machine = ({
  machine,
  statuses,
}: {
  machine: LaidMachine;
  statuses: Readonly<Record<string, StateStatus>>;
}) => (
  <g class="machine">
    {machine.edges.map((edge, index) => (
      <Edge key={`${edge.from}-${edge.to}-${index}`} edge={edge} />
    ))}
    {machine.nodes.map((laid) => (
      <StateBox key={laid.node.id} laid={laid} statuses={statuses} />
    ))}
  </g>
);

/**
 * The workflow of a release, drawn from its ASL and coloured by each state's status. Drag to
 * pan, wheel or the buttons to zoom; with the drawing focused, arrows pan and +/-/0 zoom and fit.
 */
export const WorkflowGraph = ({
  definition,
  states,
}: {
  definition: Record<string, unknown>;
  states: Readonly<Record<string, StateStatus>>;
}) => {
  const key = JSON.stringify(definition);
  const laid = useMemo(() => layoutMachine(buildGraph(definition as AslMachine)), [key]);
  const frame = useRef<HTMLDivElement>(null);
  const drag = useRef<{ x: number; y: number; view: View } | undefined>(undefined);
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });

  /**
   * The whole drawing in view. `readable` (the first view) keeps labels legible instead, and
   * when the drawing is then too big, brings the first running state to the middle.
   */
  const fitView = (readable = false) => {
    const width = frame.current?.clientWidth ?? laid.width;
    const height = frame.current?.clientHeight ?? laid.height;
    const whole = Math.min(1, (width - 16) / laid.width, (height - 16) / laid.height);
    const scale = clampScale(readable ? Math.max(READABLE_SCALE, whole) : whole);
    const centred = { x: (width - laid.width * scale) / 2, y: (height - laid.height * scale) / 2 };
    const running = Object.entries(states).find(([, status]) => status === 'running')?.[0];
    const tooWide = laid.width * scale > width - 16;
    const focus = readable && tooWide && running ? statePositions(laid).get(running) : undefined;
    if (!focus) {
      setView({ scale, x: Math.max(8, centred.x), y: Math.max(8, centred.y) });
      return;
    }
    // Centre the running state, without leaving empty space before the drawing's left edge.
    const x = Math.min(8, width / 2 - (focus.x + focus.width / 2) * scale);
    setView({ scale, x: Math.max(x, width - laid.width * scale - 8), y: Math.max(8, centred.y) });
  };
  useEffect(() => fitView(true), [laid]);

  const zoomAt = (factor: number, cx: number, cy: number) =>
    setView((current) => {
      const scale = clampScale(current.scale * factor);
      const ratio = scale / current.scale;
      return { scale, x: cx - (cx - current.x) * ratio, y: cy - (cy - current.y) * ratio };
    });
  const zoomCentre = (factor: number) =>
    zoomAt(factor, (frame.current?.clientWidth ?? 0) / 2, (frame.current?.clientHeight ?? 0) / 2);

  const onWheel = (event: TargetedWheelEvent<HTMLDivElement>) => {
    event.preventDefault();
    const box = event.currentTarget.getBoundingClientRect();
    zoomAt(event.deltaY < 0 ? 1.1 : 1 / 1.1, event.clientX - box.left, event.clientY - box.top);
  };
  const onPointerDown = (event: TargetedPointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { x: event.clientX, y: event.clientY, view };
  };
  const onPointerMove = (event: TargetedPointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (!start) return;
    setView({
      ...start.view,
      x: start.view.x + event.clientX - start.x,
      y: start.view.y + event.clientY - start.y,
    });
  };
  const onPointerUp = () => {
    drag.current = undefined;
  };
  const onKeyDown = (event: TargetedKeyboardEvent<HTMLDivElement>) => {
    const step = 40;
    const pan: Record<string, [number, number]> = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    const move = pan[event.key];
    if (move) setView((current) => ({ ...current, x: current.x + move[0], y: current.y + move[1] }));
    else if (event.key === '+' || event.key === '=') zoomCentre(1.2);
    else if (event.key === '-') zoomCentre(1 / 1.2);
    else if (event.key === '0') fitView();
    else return;
    event.preventDefault();
  };

  return (
    <div class="graph">
      <div class="graph-tools" role="toolbar" aria-label="Workflow graph view">
        <button type="button" onClick={() => zoomCentre(1.2)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => zoomCentre(1 / 1.2)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => fitView()}>
          Fit
        </button>
        <span class="hint">drag to pan · wheel to zoom · arrows and +/− when focused</span>
        <Legend />
      </div>
      <div
        class="graph-frame"
        ref={frame}
        // As tall as the drawing, up to most of the screen.
        style={{ height: `min(72vh, ${Math.ceil(laid.height) + 24}px)` }}
        role="application"
        aria-roledescription="pannable drawing"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the drawing takes arrow keys to pan and zoom
        tabIndex={0}
        aria-label="Workflow graph: arrows pan, plus and minus zoom, 0 fits"
        onWheel={onWheel}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onKeyDown={onKeyDown}
      >
        <svg class="graph-svg" width="100%" height="100%" aria-hidden="true">
          <defs>
            <marker
              id="arrow-plain"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" class="arrow" />
            </marker>
            <marker
              id="arrow-catch"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" class="arrow arrow-catch" />
            </marker>
          </defs>
          <g transform={`translate(${view.x},${view.y}) scale(${view.scale})`}>
            <Machine machine={laid} statuses={states} />
          </g>
        </svg>
      </div>
    </div>
  );
};

const Legend = () => (
  <ul class="legend" aria-label="Colours">
    {(Object.keys(STATUS_TEXT) as StateStatus[]).map((status) => (
      <li key={status}>
        <span class={`swatch status-${status}`} aria-hidden="true" />
        {STATUS_TEXT[status]}
      </li>
    ))}
  </ul>
);
