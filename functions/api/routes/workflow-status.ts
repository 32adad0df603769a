/**
 * Where an execution is, per ASL state, read from its history (GetExecutionHistory): what the
 * console colours its workflow graph by. Plain data in, plain data out.
 */

export type StateStatus = 'not-started' | 'running' | 'succeeded' | 'failed' | 'caught';

/** The members of an SDK HistoryEvent this reads (the SDK's own type fits). */
export interface HistoryEventLike {
  readonly id?: number;
  readonly previousEventId?: number;
  readonly type?: string;
  readonly stateEnteredEventDetails?: { readonly name?: string };
  readonly stateExitedEventDetails?: { readonly name?: string };
}

/** The part of an ASL definition this reads: states, nested Map/Parallel machines, catchers. */
export interface AslMachine {
  readonly StartAt?: string;
  readonly States?: Readonly<Record<string, AslState>>;
}

export interface AslState {
  readonly Type?: string;
  readonly Catch?: ReadonlyArray<{ readonly Next?: string }>;
  readonly ItemProcessor?: AslMachine;
  readonly Iterator?: AslMachine;
  readonly Branches?: readonly AslMachine[];
  readonly [key: string]: unknown;
}

/** Every state of a definition by name, nested machines included (ASL names are unique across them). */
export const allStates = (machine: AslMachine | undefined, into = new Map<string, AslState>()) => {
  for (const [name, state] of Object.entries(machine?.States ?? {})) {
    into.set(name, state);
    allStates(state.ItemProcessor ?? state.Iterator, into);
    for (const branch of state.Branches ?? []) allStates(branch, into);
  }
  return into;
};

/** Events that end a task attempt in failure; a retry schedules the task again in the same state. */
const TASK_FAILURES = new Set([
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed',
  'ActivityFailed',
  'ActivityTimedOut',
  'ActivityScheduleFailed',
]);

const TASK_ATTEMPTS = new Set(['TaskScheduled', 'LambdaFunctionScheduled', 'ActivityScheduled']);

const CONTAINER_FAILURES: Readonly<Record<string, string>> = {
  MapStateFailed: 'Map',
  MapStateAborted: 'Map',
  ParallelStateFailed: 'Parallel',
  ParallelStateAborted: 'Parallel',
};

interface Visit {
  readonly name: string;
  /** The state's ASL type, from its `<Type>StateEntered` event. */
  readonly type: string;
  status: StateStatus;
  /** Its last task attempt failed: a catcher entered next, or its exit, makes it caught. */
  failed: boolean;
  open: boolean;
}

const RANK: Readonly<Record<StateStatus, number>> = {
  'not-started': 0,
  succeeded: 1,
  caught: 2,
  failed: 3,
  running: 4,
};

/**
 * The status of every state of `definition` after `events` (oldest first). A state entered
 * several times (the wave loop, Map iterations) shows the most pressing of its visits: running,
 * then failed, then caught, then succeeded.
 *
 * A failed task whose catcher takes over is `caught`: AWS records the failure, the task state's
 * exit, then the catcher entered (so does the local emulator); a catcher entered with no exit
 * recorded reads the same.
 */
export const stateStatuses = (
  definition: AslMachine,
  events: readonly HistoryEventLike[],
): Record<string, StateStatus> => {
  const states = allStates(definition);
  const visits: Visit[] = [];
  const byEnteredId = new Map<number, Visit>();
  const eventsById = new Map<number, HistoryEventLike>();
  for (const event of events) if (event.id !== undefined) eventsById.set(event.id, event);

  /** The visit an event belongs to: the nearest StateEntered up its previousEventId chain. */
  const chainOwner = (event: HistoryEventLike | undefined): Visit | undefined => {
    let current = event;
    for (let hops = 0; current && hops < 50; hops++) {
      const visit = current.id === undefined ? undefined : byEnteredId.get(current.id);
      if (visit) return visit.open ? visit : undefined;
      if (current.type?.endsWith('StateExited')) return undefined;
      current = current.previousEventId ? eventsById.get(current.previousEventId) : undefined;
    }
    return undefined;
  };
  const previousOf = (event: HistoryEventLike) =>
    event.previousEventId ? eventsById.get(event.previousEventId) : undefined;
  const lastOpen = (predicate: (visit: Visit) => boolean) =>
    visits.findLast((visit) => visit.open && predicate(visit));
  const taskOwner = (event: HistoryEventLike) =>
    chainOwner(event) ?? lastOpen((visit) => visit.type === 'Task');
  const close = (visit: Visit, status: StateStatus) => {
    visit.status = status;
    visit.open = false;
  };

  for (const event of events) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      const name = event.stateEnteredEventDetails?.name ?? '';
      // A catcher entered while a visit's last attempt failed: that visit's error was caught.
      const catcherOf = lastOpen(
        (visit) => visit.failed && (states.get(visit.name)?.Catch ?? []).some((c) => c.Next === name),
      );
      if (catcherOf) close(catcherOf, 'caught');
      const visit: Visit = {
        name,
        type: type.slice(0, -'StateEntered'.length),
        status: 'running',
        failed: false,
        open: true,
      };
      visits.push(visit);
      if (event.id !== undefined) byEnteredId.set(event.id, visit);
    } else if (type.endsWith('StateExited')) {
      const name = event.stateExitedEventDetails?.name;
      const chained = chainOwner(previousOf(event));
      const visit = chained?.name === name ? chained : lastOpen((candidate) => candidate.name === name);
      if (visit) close(visit, visit.failed ? 'caught' : 'succeeded');
    } else if (TASK_FAILURES.has(type)) {
      const visit = taskOwner(event);
      if (visit) {
        visit.failed = true;
        visit.status = 'failed';
      }
    } else if (TASK_ATTEMPTS.has(type)) {
      const visit = taskOwner(event);
      if (visit) {
        visit.failed = false;
        visit.status = 'running';
      }
    } else if (type in CONTAINER_FAILURES) {
      const visit = lastOpen((candidate) => candidate.type === CONTAINER_FAILURES[type]);
      if (visit) {
        visit.failed = true;
        visit.status = 'failed';
      }
    } else if (type === 'ExecutionSucceeded') {
      // A Succeed or Fail state has nothing to exit from in some histories.
      for (const visit of visits) if (visit.open) close(visit, visit.failed ? 'caught' : 'succeeded');
    } else if (type.startsWith('Execution') && type !== 'ExecutionStarted') {
      for (const visit of visits) if (visit.open) close(visit, 'failed');
    }
  }

  const statuses: Record<string, StateStatus> = {};
  for (const name of states.keys()) statuses[name] = 'not-started';
  for (const visit of visits) {
    if (!states.has(visit.name)) continue;
    const current = statuses[visit.name] ?? 'not-started';
    if (RANK[visit.status] > RANK[current]) statuses[visit.name] = visit.status;
  }
  return statuses;
};
