import type {
  Action,
  ActionState,
  ActionStrategy,
  ApiKeyInfo,
  ApiKeyRecord,
  Game,
  GameInput,
  Host,
  HostInput,
  HostObservation,
  HostPatch,
  Job,
  JobError,
  JobProgress,
  JobState,
  Origin,
  OriginInput,
  Package,
  PackageAutoRelease,
  PackageState,
  Page,
  PageRequest,
  Release,
  ReleasePolicy,
  ReleaseState,
  Role,
  Tags,
} from '../model/index.js';

/**
 * The data layer's contract. Every method reaches DynamoDB through the SDK; SDK errors stop
 * here and leave as core errors (NotFoundError, ConflictError, StateConflictError,
 * BadCursorError, and ValidationError for input the model schemas refuse). State writes are
 * conditional: a stale or duplicate update never moves a record backwards. Lists take `limit`
 * (default 50, clamped to 1..500) and the opaque `next` of the previous page as `cursor`; a
 * cursor from another list is a BadCursorError. `next` is null on the last page.
 */

export interface GameStore {
  /** ConflictError when the name is taken. */
  create(input: GameInput): Promise<Game>;
  get(name: string): Promise<Game>;
  /** Sorted by name. */
  list(page?: PageRequest): Promise<Page<Game>>;
  /** NotFoundError when there is no such game. */
  remove(name: string): Promise<void>;
  /** Sets (replaces) the game's release policy; NotFoundError when there is no such game. */
  setPolicy(name: string, policy: ReleasePolicy): Promise<Game>;
}

export interface HostStore {
  create(input: HostInput): Promise<Host>;
  get(id: string): Promise<Host>;
  find(id: string): Promise<Host | undefined>;
  /** The registered ones among `ids`, in no particular order, in as few store calls as possible. */
  findMany(ids: readonly string[]): Promise<Host[]>;
  /** Sorted by id. With `tags`, only hosts carrying every given tag. */
  list(query?: PageRequest & { tags?: Tags; role?: Host['role'] }): Promise<Page<Host>>;
  /**
   * Read-modify-write guarded by `revision`, so nothing another writer set in between is lost:
   * without `ifRevision` a concurrent write (a monitor observation, another update) makes it
   * read and apply the patch again, up to 3 times, then StateConflictError carrying the current
   * host. `legacyKey: null` removes the key. With `ifRevision`, a host no longer at that
   * revision is a StateConflictError before any write: a client that read, changed and writes
   * back whole fields (tags) loses nothing.
   */
  update(id: string, patch: HostPatch, options?: { readonly ifRevision?: number }): Promise<Host>;
  /**
   * Monitor results: ignored (returns current) unless `lastSeen` (now when absent) is newer
   * than the stored one. Bumps `revision`.
   */
  observe(id: string, observation: HostObservation): Promise<Host>;
  remove(id: string): Promise<void>;
}

export interface OriginStore {
  create(input: OriginInput): Promise<Origin>;
  get(id: string): Promise<Origin>;
  /** Sorted by id. */
  list(page?: PageRequest): Promise<Page<Origin>>;
  remove(id: string): Promise<void>;
}

export interface NewPackage {
  readonly game: string;
  readonly version: string;
  readonly fileName: string;
  readonly size: number;
  readonly sha256?: string;
  readonly s3Key: string;
  readonly state?: PackageState;
  readonly uploadId?: string;
  readonly partSize?: number;
}

export interface PackageTransitionGuard {
  /**
   * An intake execution's name: move only while the verification is unclaimed or claimed by
   * it (StateConflictError when another execution holds it).
   */
  readonly verifier?: string;
}

export interface PackageStore {
  /** ConflictError when game@version exists. */
  create(input: NewPackage): Promise<Package>;
  get(id: string): Promise<Package>;
  /** Sorted by game, then version (as text). `version` needs `game` (ValidationError otherwise). */
  list(query?: PageRequest & { game?: string; version?: string }): Promise<Page<Package>>;
  /**
   * Moves along PACKAGE_TRANSITIONS only; StateConflictError (with `current`) otherwise.
   * A repeat of the move that already happened returns the package unchanged.
   */
  transition(
    id: string,
    to: PackageState,
    fields?: Partial<Pick<Package, 'reason' | 'sha256' | 's3ETag' | 'origins' | 'stagingExecution'>>,
    guard?: PackageTransitionGuard,
  ): Promise<Package>;
  /**
   * Claims the verification of a `verifying` package for one intake execution: true when it is
   * (now, or already) that execution's; false when another holds it or the package left
   * `verifying`. NotFoundError if gone.
   */
  claimVerification(id: string, executionName: string): Promise<{ claimed: boolean; pkg: Package }>;
  /** Records what auto-release did with the package (no state change); NotFoundError if gone. */
  setAutoRelease(id: string, outcome: PackageAutoRelease): Promise<Package>;
  remove(id: string): Promise<void>;
}

export interface NewRelease {
  readonly id?: string;
  readonly game: string;
  readonly version: string;
  readonly packageId: string;
  readonly target: Release['target'];
  readonly strategy: Release['strategy'];
  /** The target resolved when the release was asked for (the hosts it locked); the plan keeps it. */
  readonly hostIds?: readonly string[];
  readonly createdBy?: string;
  /** A repeat with the same key (and createdBy) returns the first release instead of another. */
  readonly idempotencyKey?: string;
}

export interface ReleaseStore {
  /** Without `id`, one is generated: `rel-<yyyymmddhhmmss>-<random>`. ConflictError on a taken id. */
  create(input: NewRelease): Promise<Release>;
  get(id: string): Promise<Release>;
  find(id: string): Promise<Release | undefined>;
  /** The release a create with this Idempotency-Key (and createdBy) made, if one did. */
  findByIdempotencyKey(createdBy: string, key: string): Promise<Release | undefined>;
  /** Newest first. */
  list(page?: PageRequest): Promise<Page<Release>>;
  /**
   * Records an operator's cancel of a running or waiting release (cancelRequestedAt, cancelReason)
   * and moves a waiting one back to running, in one conditional write. `before` is the record as
   * it was (its approvalToken is the gate to fail); `requested` is false for a repeat.
   * StateConflictError for a release that is pending or has ended.
   */
  requestCancel(id: string, reason: string): Promise<{ before: Release; requested: boolean }>;
  /**
   * Marks an ended (succeeded, failed or cancelled) release as being rolled back; StateConflictError when it
   * is in another state or a rollback was already asked for.
   */
  requestRollback(id: string): Promise<Release>;
  /**
   * Ends a later rollback that did not run to rolled_back: the request is withdrawn (the
   * release keeps its state and frees its followers), with `failure` recorded as why, if given.
   * A release with no rollback pending is returned unchanged.
   */
  endRollback(id: string, failure?: string): Promise<Release>;
  /**
   * Conditional on `from` (when given) and on the release not being terminal; StateConflictError
   * (with `current`) otherwise, except that a repeat of the current state returns it unchanged.
   * The one exception: `to: 'rolled_back'` with `from` naming only ROLLBACK_FROM_STATES is the later
   * rollback of an ended release.
   */
  transition(
    id: string,
    to: ReleaseState,
    fields?: Partial<
      Pick<
        Release,
        | 'reason'
        | 'executionArn'
        | 'counters'
        | 'hostIds'
        | 'waves'
        | 'approvalToken'
        | 'approvalWave'
        | 'versions'
        | 'hostVersions'
        | 'versionsBefore'
      >
    >,
    from?: readonly ReleaseState[],
  ): Promise<Release>;
}

export interface NewAction {
  /** Without one, `act-<yyyymmddhhmmss>-<random>` (sorts by creation time). */
  readonly id?: string;
  readonly action: string;
  readonly target: Action['target'];
  readonly params?: Record<string, unknown>;
  readonly strategy?: Partial<Record<keyof ActionStrategy, unknown>>;
  readonly createdBy?: string;
  /**
   * A client's retry key (scoped to `createdBy`): a create repeating one returns the action the
   * first create made, whatever else it carries.
   */
  readonly idempotencyKey?: string;
}

export interface ActionStore {
  /** ConflictError on a taken id. */
  create(input: NewAction): Promise<Action>;
  get(id: string): Promise<Action>;
  /** Newest first. */
  list(page?: PageRequest): Promise<Page<Action>>;
  /**
   * Forward only (ACTION_TRANSITIONS), conditional on `from` when given; StateConflictError (with
   * `current`) otherwise, except that a repeat of the current state returns it unchanged.
   */
  transition(
    id: string,
    to: ActionState,
    fields?: Partial<Pick<Action, 'reason' | 'executionArn' | 'counters' | 'hostIds'>>,
    from?: readonly ActionState[],
  ): Promise<Action>;
}

export interface NewJob {
  readonly id: string;
  readonly parentType: Job['parentType'];
  readonly parentId: string;
  readonly hostId: string;
  readonly action: string;
  readonly params?: Record<string, unknown>;
  readonly attempt?: number;
}

export interface JobStore {
  /** Idempotent: creating a job that exists returns the stored one unchanged. */
  create(input: NewJob): Promise<Job>;
  /**
   * Many jobs in a few calls (BatchGetItem, then BatchWriteItem for the missing ones), in input
   * order. Jobs that exist are returned as stored. The batch write is unconditional, so a job
   * another writer creates between the read and the write is reset to queued: use it only for
   * ids nobody else is creating at that moment (a shard's jobs before its first dispatch).
   */
  createMany(inputs: readonly NewJob[]): Promise<Job[]>;
  get(id: string): Promise<Job>;
  /** Sorted by host id. */
  listByParent(parentId: string, page?: PageRequest): Promise<Page<Job>>;
  /** Newest first. */
  listByHost(hostId: string, page?: PageRequest): Promise<Page<Job>>;
  /** Longest in that state first (ordered by when each job entered it). */
  listByState(state: JobState, page?: PageRequest): Promise<Page<Job>>;
  /**
   * Forward-only (JOB_TRANSITIONS). Moving to the state the job is already in with the same
   * outcome is a no-op that returns the job; anything else illegal is StateConflictError
   * carrying the current job.
   */
  transition(
    id: string,
    to: JobState,
    fields?: {
      error?: JobError;
      result?: Record<string, unknown>;
      /** When the job started, for an end state written without a `running` write first; kept if set. */
      startedAt?: string;
    },
  ): Promise<Job>;
  /**
   * queued → dispatched for one claimant, in one conditional write that returns nothing: true
   * when this call made the move, false when the job had already left `queued` (a repeat by the
   * same claimant is false too, so two callers never both win). NotFoundError for an unknown job.
   */
  claim(id: string, by: string): Promise<boolean>;
  /** Applied only while the job is not terminal and `seq` is newer than the stored one. */
  reportProgress(id: string, seq: number, progress: JobProgress): Promise<Job>;
  /** Appends, keeping the last LOG_TAIL_LINES lines; concurrent appends lose no line. */
  appendLog(id: string, lines: readonly string[]): Promise<Job>;
  /**
   * Progress (as reportProgress) and log lines (as appendLog) in one write. Pass back the
   * returned cursor with the next report of the same job: then no read is needed first.
   */
  recordActivity(id: string, activity: JobActivity, cursor?: JobActivityCursor): Promise<JobActivityWritten>;
}

/** What a relay has heard from an agent about a running job since its last report. */
export interface JobActivity {
  readonly progress?: { readonly seq: number; readonly report: JobProgress };
  readonly lines?: readonly string[];
}

/** The job's log as the last report left it; kept by the writer between reports. */
export interface JobActivityCursor {
  readonly logTail: readonly string[];
  readonly logRev: number;
}

export interface JobActivityWritten {
  readonly cursor: JobActivityCursor;
  /** The job had already ended: its progress was left as it was (log lines were still added). */
  readonly ended: boolean;
}

export interface CreatedApiKey {
  readonly info: ApiKeyInfo;
  /** The only time the key is seen: it is stored hashed. */
  readonly key: string;
}

export interface ApiKeyStore {
  /**
   * Keys look like `gsm_<12 lower-case id>_<43 base64url secret>`. A given `key` must have that
   * form (ValidationError) and a free id (ConflictError).
   */
  create(input: { name: string; role: Role; key?: string }): Promise<CreatedApiKey>;
  /** The key's record when it is valid and not revoked; UnauthorizedError otherwise. */
  verify(key: string): Promise<ApiKeyRecord>;
  /** Oldest first. */
  list(page?: PageRequest): Promise<Page<ApiKeyInfo>>;
  /** Idempotent (keeps the first revokedAt); NotFoundError for an unknown id. */
  revoke(id: string): Promise<ApiKeyInfo>;
}

export interface CounterStore {
  /** Atomically adds each delta to the parent's named counter; returns all its counters after. */
  add(parentId: string, deltas: Readonly<Record<string, number>>): Promise<Record<string, number>>;
  /** All counters of a parent; `{}` when none was ever added. */
  get(parentId: string): Promise<Record<string, number>>;
}

export interface HostLockStore {
  /**
   * Takes every host for the release, or none: ConflictError naming the host and the release
   * holding it when one is busy in a release that has not ended (the locks this call took are
   * given back). Idempotent for the same release; a lock held by an ended release is taken over.
   */
  acquire(releaseId: string, hostIds: readonly string[]): Promise<void>;
  /** Gives back the locks this release holds; a host another release holds now is left alone. */
  release(releaseId: string, hostIds: readonly string[]): Promise<void>;
  /** The release holding the host's lock, if any (it may have ended). */
  holder(hostId: string): Promise<string | undefined>;
}

export interface Store {
  readonly games: GameStore;
  readonly hosts: HostStore;
  readonly origins: OriginStore;
  readonly packages: PackageStore;
  readonly releases: ReleaseStore;
  readonly jobs: JobStore;
  readonly apiKeys: ApiKeyStore;
  readonly counters: CounterStore;
  readonly actions: ActionStore;
  readonly hostLocks: HostLockStore;
}
