import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one DynamoDB table gsm uses, described once. The local stack creates it with
 * `createTableInput()`; the CDK stack builds its TableV2 from the same description.
 *
 * Items are keyed `pk`/`sk` (e.g. `HOST#eu-1` / `HOST`). Secondary indexes:
 * - byType:   gsi1pk = entity type (`HOST`, `RELEASE`, ...), gsi1sk = its list order
 * - byParent: gsi2pk = `JOBS#<release or action id>`, gsi2sk = host id + job id
 * - byHost:   gsi3pk = `JOBS#<host id>`, gsi3sk = created time + job id
 * - byState:  gsi4pk = `JOBS#<state>`, gsi4sk = updated time + job id
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  indexes: [
    { name: 'byType', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { name: 'byParent', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    { name: 'byHost', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
    { name: 'byState', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
  ],
} as const;

export type IndexName = (typeof TABLE.indexes)[number]['name'];

export const createTableInput = (tableName: string): CreateTableCommandInput => {
  const keyAttributes = [
    TABLE.partitionKey,
    TABLE.sortKey,
    ...TABLE.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: TABLE.indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
};
