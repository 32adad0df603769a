import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { NotFoundError } from '../errors.js';
import { nowIso } from '../model/index.js';
import { CONDITION, isConditionFailure, PK_NAME, type StoreContext, toRecord } from './dynamo.js';
import { type Entity, itemKey } from './keys.js';

/**
 * Sets one attribute (already validated) of an existing record and touches its `updatedAt`;
 * a record that is not there is a NotFoundError naming it as `what`, and nothing is created.
 */
export const setAttribute = async <S extends z.ZodType>(
  ctx: StoreContext,
  record: { readonly schema: S; readonly entity: Entity; readonly what: string; readonly id: string },
  attribute: string,
  value: unknown,
): Promise<z.infer<S>> => {
  try {
    const out = await ctx.documents.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: itemKey(record.entity, record.id),
        UpdateExpression: 'SET #attribute = :value, #updatedAt = :now',
        ConditionExpression: CONDITION.exists,
        ExpressionAttributeNames: { ...PK_NAME, '#attribute': attribute, '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: { ':value': value, ':now': nowIso() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRecord(record.schema, out.Attributes ?? {}, record.what);
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError(record.what, record.id, { cause: error });
    throw error;
  }
};
