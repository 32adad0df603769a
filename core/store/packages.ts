import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { NotFoundError, StateConflictError, ValidationError } from '../errors.js';
import {
  FileName,
  Id,
  nowIso,
  PACKAGE_TRANSITIONS,
  Package,
  PackageAutoRelease,
  PackageState,
  packageId,
  Sha256,
  Version,
} from '../model/index.js';
import {
  CONDITION,
  deleteExisting,
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
import { setAttribute } from './set-attribute.js';
import { TABLE } from './table.js';
import { setFields, stateIn } from './transition.js';
import type { PackageStore } from './types.js';

const BY_TYPE = TABLE.indexes[0];

const NewPackage = z.object({
  game: Id,
  version: Version,
  fileName: FileName,
  size: z.number().int().min(0),
  sha256: Sha256.optional(),
  s3Key: z.string().min(1),
  state: PackageState.default('uploading'),
  uploadId: z.string().min(1).optional(),
  partSize: z.number().int().min(1).optional(),
});

/** The verification is unclaimed, or claimed by this execution. */
const verifierIs = (executionName: string) => ({
  expression: '(attribute_not_exists(#verifier) OR #verifier = :verifier)',
  names: { '#verifier': 'verifyingExecution' },
  values: { ':verifier': executionName },
});

const predecessors = (to: PackageState): PackageState[] =>
  PackageState.options.filter((from) => PACKAGE_TRANSITIONS[from].includes(to));

export const createPackageStore = (ctx: StoreContext): PackageStore => {
  const find = async (id: string): Promise<Package | undefined> => {
    const item = await getItem(ctx, itemKey(ENTITY.package, id));
    return item ? toRecord(Package, item, 'package') : undefined;
  };
  const get = async (id: string): Promise<Package> => {
    const pkg = await find(id);
    if (!pkg) throw new NotFoundError('package', id);
    return pkg;
  };

  return {
    async create(input) {
      const fields = validate(NewPackage, input, 'package');
      const now = nowIso();
      const id = packageId(fields.game, fields.version);
      const pkg: Package = { ...fields, id, origins: [], createdAt: now, updatedAt: now };
      await putNew(
        ctx,
        {
          ...pkg,
          ...itemKey(ENTITY.package, id),
          ...byTypeKeys(ENTITY.package, `${pkg.game}#${pkg.version}`),
        },
        `package '${id}' already exists`,
      );
      return pkg;
    },
    get,
    async list(query = {}) {
      if (query.version !== undefined && query.game === undefined) {
        throw new ValidationError('filtering packages by version needs a game', [
          { path: 'version', message: 'give the game too' },
        ]);
      }
      const sortCondition =
        query.game === undefined
          ? {}
          : query.version === undefined
            ? {
                sortCondition: 'begins_with(#sk, :prefix)',
                values: { ':prefix': `${query.game}#` },
                sortPrefix: `${query.game}#`,
              }
            : {
                sortCondition: '#sk = :exact',
                values: { ':exact': `${query.game}#${query.version}` },
                sortPrefix: `${query.game}#${query.version}`,
              };
      const result = await queryPage(
        ctx,
        { index: BY_TYPE, partition: ENTITY.package, ...sortCondition },
        query,
      );
      return mapPage(result, (item) => toRecord(Package, item, 'package'));
    },
    async transition(id, to, fields = {}, guard = {}) {
      const from = stateIn(predecessors(to), 'from');
      const set = setFields({
        reason: fields.reason,
        sha256: fields.sha256,
        s3ETag: fields.s3ETag,
        origins: fields.origins,
        stagingExecution: fields.stagingExecution,
      });
      const verifier = guard.verifier === undefined ? undefined : verifierIs(guard.verifier);
      try {
        const out = await ctx.documents.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: itemKey(ENTITY.package, id),
            UpdateExpression: `SET ${['#state = :to', '#updatedAt = :now', ...set.sets].join(', ')}`,
            ConditionExpression: [CONDITION.exists, from.expression, verifier?.expression]
              .filter(Boolean)
              .join(' AND '),
            ExpressionAttributeNames: {
              ...PK_NAME,
              '#state': 'state',
              '#updatedAt': 'updatedAt',
              ...set.names,
              ...verifier?.names,
            },
            ExpressionAttributeValues: {
              ':to': to,
              ':now': nowIso(),
              ...from.values,
              ...set.values,
              ...verifier?.values,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toRecord(Package, out.Attributes ?? {}, 'package');
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const current = await find(id);
        if (!current) throw new NotFoundError('package', id, { cause: error });
        // A duplicate of the move that already happened is not a conflict.
        if (current.state === to) return current;
        const heldByOther =
          guard.verifier !== undefined &&
          current.verifyingExecution !== undefined &&
          current.verifyingExecution !== guard.verifier;
        throw new StateConflictError<Package>(
          heldByOther
            ? `package '${id}' is being verified by intake ${current.verifyingExecution}`
            : `package '${id}' cannot move from ${current.state} to ${to}`,
          current,
          { cause: error },
        );
      }
    },
    async claimVerification(id, executionName) {
      const verifier = verifierIs(executionName);
      try {
        const out = await ctx.documents.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: itemKey(ENTITY.package, id),
            UpdateExpression: 'SET #verifier = :verifier, #updatedAt = :now',
            ConditionExpression: `${CONDITION.exists} AND #state = :verifying AND ${verifier.expression}`,
            ExpressionAttributeNames: {
              ...PK_NAME,
              '#state': 'state',
              '#updatedAt': 'updatedAt',
              ...verifier.names,
            },
            ExpressionAttributeValues: { ':verifying': 'verifying', ':now': nowIso(), ...verifier.values },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { claimed: true, pkg: toRecord(Package, out.Attributes ?? {}, 'package') };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return { claimed: false, pkg: await get(id) };
      }
    },
    async setAutoRelease(id, outcome) {
      const value = validate(PackageAutoRelease, outcome, 'package auto-release');
      const record = { schema: Package, entity: ENTITY.package, what: 'package', id };
      return setAttribute(ctx, record, 'autoRelease', value);
    },
    async remove(id) {
      await deleteExisting(ctx, itemKey(ENTITY.package, id), 'package', id);
    },
  };
};
