import type { StateMachine } from 'aws-local-stepfunctions';
import type { MapSpec } from './definition.js';
import { readSimplePath } from './paths.js';

/** One entry of aws-local-stepfunctions' event log (the type is not exported by the library). */
export type LibraryEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer T> ? T : never;

export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly type: string;
  readonly details?: Record<string, unknown>;
}

export const dataDetails = { truncated: false } as const;

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

/** AWS names the details member after the event type, except that every *StateEntered/Exited shares one. */
export const detailsKeyOf = (type: string): string => {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${lowerFirst(type)}EventDetails`;
};

const DATA_FIELDS = new Set(['input', 'inputDetails', 'output', 'outputDetails', 'parameters']);

/** The wire shape of GetExecutionHistory (timestamps in epoch seconds, as awsJson1_0 sends them). */
export const toWire = (event: HistoryEvent, includeData: boolean): Record<string, unknown> => {
  const wire: Record<string, unknown> = {
    id: event.id,
    previousEventId: event.previousEventId,
    timestamp: event.timestamp / 1000,
    type: event.type,
  };
  if (event.details) {
    const details = includeData
      ? event.details
      : Object.fromEntries(Object.entries(event.details).filter(([key]) => !DATA_FIELDS.has(key)));
    wire[detailsKeyOf(event.type)] = details;
  }
  return wire;
};

const mapLength = (spec: MapSpec | undefined, input: unknown): number | undefined => {
  const afterInputPath = spec?.inputPath === null ? {} : readSimplePath(spec?.inputPath ?? '$', input);
  const items = readSimplePath(spec?.itemsPath ?? '$', afterInputPath);
  return Array.isArray(items) ? items.length : undefined;
};

const json = (value: unknown): string => JSON.stringify(value ?? null);

/**
 * An execution's history with AWS event names. The server's own task events and the library's
 * state events land here in the order they happened: task handlers yield to the event loop
 * before recording, so library events dispatched before them have been consumed by then.
 */
export class History {
  private readonly events: HistoryEvent[] = [];
  private closed = false;

  add(type: string, details?: Record<string, unknown>): void {
    if (this.closed) return;
    const previous = this.events.at(-1);
    this.events.push({
      id: this.events.length + 1,
      previousEventId: previous?.id ?? 0,
      timestamp: Math.max(Date.now(), previous?.timestamp ?? 0),
      type,
      ...(details ? { details: stripUndefined(details) } : {}),
    });
  }

  /** Records the terminal event; nothing is added after it, as in AWS. */
  close(type: string, details?: Record<string, unknown>): void {
    this.add(type, details);
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  list(): readonly HistoryEvent[] {
    return this.events;
  }

  addLibraryEvent(event: LibraryEvent, maps: ReadonlyMap<string, MapSpec>): void {
    switch (event.type) {
      case 'StateEntered': {
        const { name, type, input } = event.state;
        this.add(`${type}StateEntered`, { name, input: json(input), inputDetails: dataDetails });
        if (type === 'Map') this.add('MapStateStarted', { length: mapLength(maps.get(name), input) });
        if (type === 'Parallel') this.add('ParallelStateStarted');
        return;
      }
      case 'StateExited': {
        const { name, type, output } = event.state;
        if (type === 'Map') this.add('MapStateSucceeded');
        if (type === 'Parallel') this.add('ParallelStateSucceeded');
        this.add(`${type}StateExited`, { name, output: json(output), outputDetails: dataDetails });
        return;
      }
      case 'StateFailed':
        if (event.state.type === 'Map') this.add('MapStateFailed');
        if (event.state.type === 'Parallel') this.add('ParallelStateFailed');
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.add(event.type, { name: event.parentState.name, index: event.index });
        return;
      default:
        // Execution* are written by the server itself; retries, catches and parallel branches have no AWS event.
        return;
    }
  }
}

const stripUndefined = (details: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined));
