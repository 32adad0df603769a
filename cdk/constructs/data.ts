import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE } from '../../core/store/table.js';

export interface DataProps {
  /** Physical table name; CloudFormation picks one when absent, so two stacks never clash. */
  readonly tableName?: string;
  /** Keep the table when the stack is deleted (default) — it holds the fleet's history. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * What the store calls (core/store/*.ts): item reads and writes and queries, nothing that
 * changes the table itself. Scan and transactions are left out on purpose: the store uses
 * neither (dynalite has no transactions).
 */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;
export const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

const attribute = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

/** The one table, built from core/store/table.ts — the description the local stack creates. */
export class Data extends Construct {
  public readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: DataProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      ...(props.tableName ? { tableName: props.tableName } : {}),
      partitionKey: attribute(TABLE.partitionKey),
      sortKey: attribute(TABLE.sortKey),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: TABLE.ttlAttribute,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      globalSecondaryIndexes: TABLE.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      })),
    });
  }

  /** The table and each of its indexes by name: no `index/*`, so a new index is granted on purpose. */
  public get resourceArns(): string[] {
    return [
      this.table.tableArn,
      ...TABLE.indexes.map((index) => `${this.table.tableArn}/index/${index.name}`),
    ];
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_READ_ACTIONS],
      resourceArns: this.resourceArns,
    });
  }

  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS],
      resourceArns: this.resourceArns,
    });
  }
}
