import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError, StateConflictError } from '../errors.js';
import { Host, HostInput, HostObservation, HostPatch, nowIso } from '../model/index.js';
import {
  CONDITION,
  deleteExisting,
  getItem,
  getItems,
  type Item,
  isConditionFailure,
  mapPage,
  PK_NAME,
  putNew,
  queryPage,
  type StoreContext,
  toRecord,
  validate,
} from './dynamo.js';
import { byTypeKeys, ENTITY, itemKey } from './keys.js';
import { TABLE } from './table.js';
import type { HostStore } from './types.js';

const BY_TYPE = TABLE.indexes[0];

const hostItem = (host: Host): Item => ({
  ...host,
  ...itemKey(ENTITY.host, host.id),
  ...byTypeKeys(ENTITY.host, host.id),
});

/** ISO strings compare as time only in one shape; `…00Z` and `…00.000Z` would not. */
const canonicalTime = (iso: string): string => new Date(iso).toISOString();

/** A sweep writes each host every few seconds; three reads in a row all beaten by one is a busy host. */
const UNCONDITIONAL_UPDATE_ATTEMPTS = 3;

export const createHostStore = (ctx: StoreContext): HostStore => {
  const find = async (id: string): Promise<Host | undefined> => {
    const item = await getItem(ctx, itemKey(ENTITY.host, id));
    return item ? toRecord(Host, item, 'host') : undefined;
  };
  const get = async (id: string): Promise<Host> => {
    const host = await find(id);
    if (!host) throw new NotFoundError('host', id);
    return host;
  };

  return {
    async create(input) {
      const now = nowIso();
      const host: Host = {
        ...validate(HostInput, input, 'host'),
        status: 'unknown',
        createdAt: now,
        updatedAt: now,
        revision: 1,
      };
      await putNew(ctx, hostItem(host), `host '${host.id}' already exists`);
      return host;
    },
    get,
    find,
    async findMany(ids) {
      const items = await getItems(
        ctx,
        [...new Set(ids)].map((id) => itemKey(ENTITY.host, id)),
      );
      return items.map((item) => toRecord(Host, item, 'host'));
    },
    async list(query = {}) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const filters: string[] = [];
      Object.entries(query.tags ?? {}).forEach(([key, value], i) => {
        names['#tags'] = 'tags';
        names[`#t${i}`] = key;
        values[`:t${i}`] = value;
        filters.push(`#tags.#t${i} = :t${i}`);
      });
      if (query.role) {
        names['#role'] = 'role';
        values[':role'] = query.role;
        filters.push('#role = :role');
      }
      const result = await queryPage(
        ctx,
        {
          index: BY_TYPE,
          partition: ENTITY.host,
          ...(filters.length > 0 ? { filter: filters.join(' AND '), names, values } : {}),
        },
        query,
      );
      return mapPage(result, (item) => toRecord(Host, item, 'host'));
    },
    async update(id, patch, options = {}) {
      const changes = validate(HostPatch, patch, 'host patch');
      // Without ifRevision the caller asked for its fields, not for a revision: a monitor
      // sweep landing between the read and the write is read again and the patch re-applied.
      const attempts = options.ifRevision === undefined ? UNCONDITIONAL_UPDATE_ATTEMPTS : 1;
      for (let attempt = 1; ; attempt++) {
        const current = await get(id);
        if (options.ifRevision !== undefined && current.revision !== options.ifRevision) {
          throw new StateConflictError<Host>(
            `host '${id}' is at revision ${current.revision}, not ${options.ifRevision}: it changed since it was read`,
            current,
          );
        }
        const { legacyKey, ...rest } = changes;
        const merged = { ...current, ...rest };
        if (legacyKey === null) delete merged.legacyKey;
        else if (legacyKey !== undefined) merged.legacyKey = legacyKey;
        // The protocol/legacyKey pairing is a rule of the whole record, so check the result.
        validate(HostInput, merged, 'host');
        const next: Host = { ...merged, updatedAt: nowIso(), revision: current.revision + 1 };
        try {
          await ctx.documents.send(
            new PutCommand({
              TableName: ctx.table,
              Item: hostItem(next),
              ConditionExpression: `${CONDITION.exists} AND #revision = :revision`,
              ExpressionAttributeNames: { ...PK_NAME, '#revision': 'revision' },
              ExpressionAttributeValues: { ':revision': current.revision },
            }),
          );
          return next;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          const now = await find(id);
          if (!now) throw new NotFoundError('host', id, { cause: error });
          if (attempt < attempts) continue;
          throw new StateConflictError<Host>(
            `host '${id}' changed while it was being updated (revision ${current.revision} → ${now.revision})`,
            now,
            { cause: error },
          );
        }
      }
    },
    async observe(id, observation) {
      const seen = validate(HostObservation, observation, 'host observation');
      const lastSeen = canonicalTime(seen.lastSeen ?? nowIso());
      const sets = ['#status = :status', '#lastSeen = :lastSeen', '#updatedAt = :now'];
      const names: Record<string, string> = {
        ...PK_NAME,
        '#status': 'status',
        '#lastSeen': 'lastSeen',
        '#updatedAt': 'updatedAt',
        '#revision': 'revision',
      };
      const values: Record<string, unknown> = {
        ':status': seen.status,
        ':lastSeen': lastSeen,
        ':now': nowIso(),
        ':one': 1,
      };
      if (seen.agentVersion !== undefined) {
        sets.push('#agentVersion = :agentVersion');
        names['#agentVersion'] = 'agentVersion';
        values[':agentVersion'] = seen.agentVersion;
      }
      if (seen.instances !== undefined) {
        sets.push('#instances = :instances');
        names['#instances'] = 'instances';
        values[':instances'] = seen.instances;
      }
      const newer = '(attribute_not_exists(#lastSeen) OR #lastSeen < :lastSeen)';
      try {
        const out = await ctx.documents.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: itemKey(ENTITY.host, id),
            UpdateExpression: `SET ${sets.join(', ')} ADD #revision :one`,
            ConditionExpression: `${CONDITION.exists} AND ${newer}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toRecord(Host, out.Attributes ?? {}, 'host');
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Stale observation (or a vanished host): what is stored stands.
        return get(id);
      }
    },
    async remove(id) {
      await deleteExisting(ctx, itemKey(ENTITY.host, id), 'host', id);
    },
  };
};
