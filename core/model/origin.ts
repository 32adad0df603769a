import { z } from 'zod';
import { Id, Timestamp } from './common.js';

/** A download origin: an HTTP server (nginx) near the hosts, with an origin-role agent beside it. */
export const OriginInput = z.object({
  id: Id,
  /** Public base URL packages are served under, e.g. `https://mirror-eu1.example.net/gsm`. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** The origin-role host whose agent stages packages into the web root. */
  hostId: Id,
  region: z.string().max(64).optional(),
  /**
   * How staging checks the copy through `baseUrl`. `sha256`: HEAD for the size, then a GET of the
   * whole file through SHA-256. `size`: the HEAD only, trusting the origin agent, which hashed
   * every byte it published; for a far mirror where a second full download of every package
   * costs more than it catches (a wrong path, file or length is still caught).
   */
  check: z.enum(['sha256', 'size']).default('sha256'),
});
export type OriginInput = z.input<typeof OriginInput>;

export const Origin = OriginInput.extend({
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Origin = z.infer<typeof Origin>;
