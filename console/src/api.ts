/**
 * The console's calls to the gsm API: same origin, the operator's key as a bearer token. The key
 * lives in sessionStorage only: gone when the tab closes.
 */

export type Role = 'viewer' | 'operator' | 'admin';
export type StateStatus = 'not-started' | 'running' | 'succeeded' | 'failed' | 'caught';

export interface Session {
  readonly keyId: string;
  readonly name: string;
  readonly role: Role;
}

export interface Page<T> {
  readonly items: T[];
  readonly next: string | null;
}

export interface JobView {
  readonly id: string;
  readonly parentId: string;
  readonly hostId: string;
  readonly action: string;
  readonly state: string;
  readonly progress?: { readonly phase: string; readonly bytes?: number; readonly total?: number };
  readonly error?: { readonly code: string; readonly message: string };
  readonly logTail?: readonly string[];
  readonly updatedAt?: string;
}

export interface WaveView {
  readonly index: number;
  readonly kind: string;
  readonly gate: boolean;
  readonly hostIds: readonly string[];
  readonly progress?: Readonly<Record<string, number>>;
}

export interface ReleaseView {
  readonly id: string;
  readonly game: string;
  readonly version: string;
  readonly packageId: string;
  readonly state: string;
  readonly reason?: string;
  readonly target: { readonly hosts?: readonly string[]; readonly tags?: Readonly<Record<string, string>> };
  readonly strategy: Readonly<Record<string, unknown>>;
  readonly waves: readonly WaveView[];
  readonly approvalWave?: number;
  readonly progress?: Readonly<Record<string, number>>;
  readonly consoleUrl?: string;
  readonly createdAt: string;
  readonly updatedAt?: string;
}

export interface ReleaseDetailView extends ReleaseView {
  readonly jobs: readonly JobView[];
}

export interface WorkflowView {
  readonly definition: Record<string, unknown>;
  readonly states: Readonly<Record<string, StateStatus>>;
  readonly executionArn?: string;
  readonly consoleUrl?: string;
}

export interface InstanceView {
  readonly name: string;
  readonly game: string;
  readonly state: string;
  readonly version?: string;
  readonly players?: number;
  readonly maxPlayers?: number;
  readonly map?: string;
}

export interface HostView {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly role: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: string;
  readonly lastSeen?: string;
  readonly agentVersion?: string;
  readonly instances: readonly InstanceView[];
}

export interface PackageView {
  readonly id: string;
  readonly game: string;
  readonly version: string;
  readonly fileName: string;
  readonly size: number;
  readonly sha256?: string;
  readonly state: string;
  readonly reason?: string;
  readonly origins: ReadonlyArray<{
    readonly id: string;
    readonly url: string;
    readonly verified: boolean;
    readonly error?: string;
  }>;
  readonly createdAt: string;
}

const KEY_ITEM = 'gsm.apiKey';

export const storedKey = (): string | undefined => sessionStorage.getItem(KEY_ITEM) ?? undefined;
export const storeKey = (key: string): void => sessionStorage.setItem(KEY_ITEM, key);
export const forgetKey = (): void => sessionStorage.removeItem(KEY_ITEM);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Told when any call comes back 401: the key was revoked or mistyped, the console logs out. */
let onUnauthorized: (() => void) | undefined;
export const whenUnauthorized = (listener: () => void): void => {
  onUnauthorized = listener;
};

export const authHeaders = (key = storedKey()): Record<string, string> =>
  key ? { authorization: `Bearer ${key}` } : {};

export const request = async <T>(
  path: string,
  init: { method?: string; body?: unknown; key?: string; signal?: AbortSignal } = {},
): Promise<T> => {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...authHeaders(init.key),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'E_NETWORK', `the API could not be reached (${(error as Error).message})`);
  }
  const body = (await res.json().catch(() => undefined)) as
    | (T & { error?: string; code?: string })
    | undefined;
  if (!res.ok) {
    if (res.status === 401 && init.key === undefined) onUnauthorized?.();
    throw new ApiError(res.status, body?.code ?? `HTTP ${res.status}`, body?.error ?? res.statusText);
  }
  return body as T;
};

/** Every item of a listing, following `next` up to `maxPages` pages. */
export const listAll = async <T>(path: string, maxPages = 20): Promise<T[]> => {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const separator = path.includes('?') ? '&' : '?';
    const url: string = cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path;
    const answer: Page<T> = await request<Page<T>>(url);
    items.push(...answer.items);
    cursor = answer.next;
    if (!cursor) break;
  }
  return items;
};

export const canOperate = (role: Role | undefined): boolean => role === 'operator' || role === 'admin';
