import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../core/aws.js';
import type { LocalS3 } from './server.js';

/** An S3 client for a local S3, as gsm's own services build theirs (path-style: s3rver has no virtual hosts). */
export const localS3Client = (s3: Pick<LocalS3, 'region' | 'endpoint' | 'credentials'>): S3Client =>
  createS3Client({
    region: s3.region,
    endpoints: { s3: s3.endpoint },
    credentials: s3.credentials,
    s3ForcePathStyle: true,
  });
