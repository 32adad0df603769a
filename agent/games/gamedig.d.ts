// gamedig 5.3.3 ships no TypeScript types: this declares the little of it the agent uses.
declare module 'gamedig' {
  export interface QueryOptions {
    type: string;
    host: string;
    port?: number;
    /** Per-packet timeout (ms). */
    socketTimeout?: number;
    /** Whole-attempt timeout (ms). */
    attemptTimeout?: number;
    maxRetries?: number;
    givenPortOnly?: boolean;
    portCache?: boolean;
    stripColors?: boolean;
    requestPlayers?: boolean;
    ipFamily?: 0 | 4 | 6;
  }

  export interface QueryPlayer {
    name?: string;
    raw?: Record<string, unknown>;
  }

  export interface QueryResult {
    name: string;
    map: string;
    password: boolean;
    numplayers: number;
    maxplayers: number;
    players: QueryPlayer[];
    bots: QueryPlayer[];
    connect: string;
    ping: number;
    queryPort: number;
    version: string;
    raw: Record<string, unknown>;
  }

  export class GameDig {
    constructor(runnerOptions?: { listenUdpPort?: number });
    query(options: QueryOptions): Promise<QueryResult>;
    static query(options: QueryOptions): Promise<QueryResult>;
  }

  export const games: Record<string, { name: string; options: { port?: number; protocol: string } }>;
}
