import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { NotFoundError, UnauthorizedError } from '../errors.js';
import {
  type ApiKeyRecord,
  ApiKeyRecord as ApiKeyRecordSchema,
  nowIso,
  Role,
  toApiKeyInfo,
} from '../model/index.js';
import {
  CONDITION,
  getItem,
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
import type { ApiKeyStore } from './types.js';

const BY_TYPE = TABLE.indexes[0];

/** `gsm_<12-char id>_<43-char base64url secret>`: the id finds the record, the whole key is hashed. */
const KEY_FORMAT = /^gsm_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** lastUsedAt is informative; writing it on every request would double the cost of auth. */
const LAST_USED_GRANULARITY_MS = 60_000;

const NewApiKey = z.object({
  name: z.string().min(1).max(100),
  role: Role,
  key: z
    .string()
    .regex(
      KEY_FORMAT,
      'an API key looks like gsm_<12 lower-case letters or digits>_<43 base64url characters>',
    )
    .optional(),
});

export const parseApiKey = (key: string): { id: string } | undefined => {
  const match = KEY_FORMAT.exec(key);
  return match?.[1] ? { id: match[1] } : undefined;
};

export const generateApiKey = (): string => {
  const id = Array.from({ length: 12 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');
  return `gsm_${id}_${randomBytes(32).toString('base64url')}`;
};

const sha256 = (key: string): string => createHash('sha256').update(key).digest('hex');

export const createApiKeyStore = (ctx: StoreContext): ApiKeyStore => {
  const read = async (id: string): Promise<ApiKeyRecord | undefined> => {
    const item = await getItem(ctx, itemKey(ENTITY.apiKey, id));
    return item ? toRecord(ApiKeyRecordSchema, item, 'API key') : undefined;
  };

  return {
    async create(input) {
      const fields = validate(NewApiKey, input, 'API key');
      const key = fields.key ?? generateApiKey();
      const id = parseApiKey(key)?.id as string;
      const record: ApiKeyRecord = {
        id,
        name: fields.name,
        role: fields.role,
        hash: sha256(key),
        createdAt: nowIso(),
      };
      await putNew(
        ctx,
        {
          ...record,
          ...itemKey(ENTITY.apiKey, id),
          ...byTypeKeys(ENTITY.apiKey, `${record.createdAt}#${id}`),
        },
        `API key '${id}' already exists`,
      );
      return { info: toApiKeyInfo(record), key };
    },

    async verify(key) {
      const parsed = typeof key === 'string' ? parseApiKey(key) : undefined;
      if (!parsed) throw new UnauthorizedError();
      const record = await read(parsed.id);
      if (!record) throw new UnauthorizedError();
      const expected = Buffer.from(record.hash, 'hex');
      const actual = Buffer.from(sha256(key), 'hex');
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
        throw new UnauthorizedError();
      }
      if (record.revokedAt) throw new UnauthorizedError('this API key has been revoked');
      const now = new Date();
      const lastUsed = record.lastUsedAt ? Date.parse(record.lastUsedAt) : 0;
      if (now.getTime() - lastUsed < LAST_USED_GRANULARITY_MS) return record;
      const lastUsedAt = now.toISOString();
      try {
        await ctx.documents.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: itemKey(ENTITY.apiKey, record.id),
            UpdateExpression: 'SET #lastUsedAt = :now',
            // Concurrent requests race here; one write a minute is enough, the rest lose quietly.
            ConditionExpression: `${CONDITION.exists} AND (attribute_not_exists(#lastUsedAt) OR #lastUsedAt < :since)`,
            ExpressionAttributeNames: { ...PK_NAME, '#lastUsedAt': 'lastUsedAt' },
            ExpressionAttributeValues: {
              ':now': lastUsedAt,
              ':since': new Date(now.getTime() - LAST_USED_GRANULARITY_MS).toISOString(),
            },
          }),
        );
        return { ...record, lastUsedAt };
      } catch {
        // Best effort: bookkeeping must never turn a valid key into a failed request.
        return record;
      }
    },

    async list(page) {
      const result = await queryPage(ctx, { index: BY_TYPE, partition: ENTITY.apiKey }, page);
      return mapPage(result, (item) => toApiKeyInfo(toRecord(ApiKeyRecordSchema, item, 'API key')));
    },

    async revoke(id) {
      try {
        const out = await ctx.documents.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: itemKey(ENTITY.apiKey, id),
            UpdateExpression: 'SET #revokedAt = if_not_exists(#revokedAt, :now)',
            ConditionExpression: CONDITION.exists,
            ExpressionAttributeNames: { ...PK_NAME, '#revokedAt': 'revokedAt' },
            ExpressionAttributeValues: { ':now': nowIso() },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toApiKeyInfo(toRecord(ApiKeyRecordSchema, out.Attributes ?? {}, 'API key'));
      } catch (error) {
        if (isConditionFailure(error)) throw new NotFoundError('API key', id, { cause: error });
        throw error;
      }
    },
  };
};
