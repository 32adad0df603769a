import type {
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
  PackageState,
  Page,
  PageRequest,
  Release,
  ReleaseState,
  Role,
  Tags,
} from '../model/index.js';

/**
 * The data layer's contract. Every method reaches DynamoDB through the SDK; SDK errors stop
 * here and leave as core errors (NotFoundError, ConflictError, StateConflictError,
 * BadCursorError). State writes are conditional: a stale or duplicate update never moves a
 * record backwards.
 */

export interface GameStore {
  /** ConflictError when the name is taken. */
  create(input: GameInput): Promise<Game>;
  get(name: string): Promise<Game>;
  list(page?: PageRequest): Promise<Page<Game>>;
  remove(name: string): Promise<void>;
}

export interface HostStore {
  create(input: HostInput): Promise<Host>;
  get(id: string): Promise<Host>;
  find(id: string): Promise<Host | undefined>;
  /** Sorted by id. With `tags`, only hosts carrying every given tag. */
  list(query?: PageRequest & { tags?: Tags; role?: Host['role'] }): Promise<Page<Host>>;
  /** Read-modify-write guarded by `revision`; a concurrent writer gets StateConflictError. */
  update(id: string, patch: HostPatch): Promise<Host>;
  /** Monitor results: ignored (returns current) when older than what is stored. */
  observe(id: string, observation: HostObservation): Promise<Host>;
  remove(id: string): Promise<void>;
}

export interface OriginStore {
  create(input: OriginInput): Promise<Origin>;
  get(id: string): Promise<Origin>;
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
}

export interface PackageStore {
  /** ConflictError when game@version exists. */
  create(input: NewPackage): Promise<Package>;
  get(id: string): Promise<Package>;
  list(query?: PageRequest & { game?: string; version?: string }): Promise<Page<Package>>;
  /** Moves along PACKAGE_TRANSITIONS only; StateConflictError otherwise. */
  transition(
    id: string,
    to: PackageState,
    fields?: Partial<Pick<Package, 'reason' | 'sha256' | 'origins'>>,
  ): Promise<Package>;
  remove(id: string): Promise<void>;
}

export interface NewRelease {
  readonly id?: string;
  readonly game: string;
  readonly version: string;
  readonly packageId: string;
  readonly target: Release['target'];
  readonly strategy: Release['strategy'];
  readonly createdBy?: string;
}

export interface ReleaseStore {
  create(input: NewRelease): Promise<Release>;
  get(id: string): Promise<Release>;
  /** Newest first. */
  list(page?: PageRequest): Promise<Page<Release>>;
  /** Conditional on `from` (when given) and on the release not being terminal. */
  transition(
    id: string,
    to: ReleaseState,
    fields?: Partial<Pick<Release, 'reason' | 'executionArn' | 'counters'>>,
    from?: readonly ReleaseState[],
  ): Promise<Release>;
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
  get(id: string): Promise<Job>;
  listByParent(parentId: string, page?: PageRequest): Promise<Page<Job>>;
  listByHost(hostId: string, page?: PageRequest): Promise<Page<Job>>;
  listByState(state: JobState, page?: PageRequest): Promise<Page<Job>>;
  /**
   * Forward-only (JOB_TRANSITIONS). Moving to the state the job is already in with the same
   * outcome is a no-op that returns the job; anything else illegal is StateConflictError
   * carrying the current job.
   */
  transition(
    id: string,
    to: JobState,
    fields?: { error?: JobError; result?: Record<string, unknown> },
  ): Promise<Job>;
  /** Applied only while the job is not terminal and `seq` is newer than the stored one. */
  reportProgress(id: string, seq: number, progress: JobProgress): Promise<Job>;
  /** Appends, keeping the last LOG_TAIL_LINES lines. */
  appendLog(id: string, lines: readonly string[]): Promise<Job>;
}

export interface CreatedApiKey {
  readonly info: ApiKeyInfo;
  /** The only time the key is seen: it is stored hashed. */
  readonly key: string;
}

export interface ApiKeyStore {
  create(input: { name: string; role: Role; key?: string }): Promise<CreatedApiKey>;
  /** The key's record when it is valid and not revoked; UnauthorizedError otherwise. */
  verify(key: string): Promise<ApiKeyRecord>;
  list(page?: PageRequest): Promise<Page<ApiKeyInfo>>;
  revoke(id: string): Promise<ApiKeyInfo>;
}

export interface Store {
  readonly games: GameStore;
  readonly hosts: HostStore;
  readonly origins: OriginStore;
  readonly packages: PackageStore;
  readonly releases: ReleaseStore;
  readonly jobs: JobStore;
  readonly apiKeys: ApiKeyStore;
}
