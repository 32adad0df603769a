/** The local S3: s3rver plus what gsm needs and s3rver lacks. See local/s3/server.ts. */

export { localS3Client } from './s3/client.js';
export type { S3EventListener } from './s3/events.js';
export { S3RVER_CREDENTIALS } from './s3/s3rver.js';
export type { LocalS3, S3Credentials, StartS3Options } from './s3/server.js';
export { startS3 } from './s3/thread.js';
