import { BatchWriteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createDynamoDbClient } from '../core/aws.js';
import { ensureTable } from '../core/store/index.js';
import { LOCAL_CREDENTIALS, startDynalite } from '../local/dynamodb.js';
const d = await startDynalite();
const client = createDynamoDbClient({ region: 'us-east-1', endpoints: { dynamodb: d.endpoint }, credentials: LOCAL_CREDENTIALS });
await ensureTable(client, 'gsm-t');
const doc = createDocumentClient(client);
const item = (i: number, r: number) => ({ pk: `JOB#j${i}`, sk: 'JOB', gsi1pk: 'JOBS#p', gsi1sk: `j${i}`, gsi4pk: 'JOBS#queued', gsi4sk: `x${i}`, state: 'queued', r, action: 'status', params: {}, hostId: `h${i}`, logTail: [], progressSeq: 0, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
const pool = async (n: number, conc: number, f: (i: number) => Promise<unknown>) => { let k = 0; await Promise.all(Array.from({ length: conc }, async () => { while (k < n) await f(k++); })); };
for (let round = 0; round < 3; round++) {
  let s = performance.now();
  await pool(500, 8, (i) => doc.send(new PutCommand({ TableName: 'gsm-t', Item: item(i, round) })));
  const put = performance.now() - s;
  s = performance.now();
  await pool(500, 8, (i) => doc.send(new UpdateCommand({ TableName: 'gsm-t', Key: { pk: `JOB#j${i}`, sk: 'JOB' }, UpdateExpression: 'SET #s = :to, gsi4pk = :g', ConditionExpression: 'attribute_exists(pk) AND #s = :from', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':to': 'dispatched', ':from': 'queued', ':g': 'JOBS#dispatched' } })));
  const upd = performance.now() - s;
  s = performance.now();
  await pool(20, 4, (b) => doc.send(new BatchWriteCommand({ RequestItems: { 'gsm-t': Array.from({ length: 25 }, (_, j) => ({ PutRequest: { Item: item(b * 25 + j, round + 10) } })) } })));
  const bw = performance.now() - s;
  console.log(`500 puts ${put.toFixed(0)} ms, 500 cond updates ${upd.toFixed(0)} ms, 20x25 batch puts ${bw.toFixed(0)} ms`);
}
process.exit(0);
