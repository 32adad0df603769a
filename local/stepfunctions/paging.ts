import { SfnError } from './errors.js';

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextToken?: string;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/**
 * Pages by the key of the last item returned, so items added at the front (newest first)
 * neither repeat nor vanish between pages. A token that names nothing is InvalidToken.
 */
export const paginate = <T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  maxResults: unknown,
  nextToken: unknown,
): Page<T> => {
  if (
    maxResults !== undefined &&
    (typeof maxResults !== 'number' ||
      !Number.isInteger(maxResults) ||
      maxResults < 0 ||
      maxResults > MAX_PAGE)
  ) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_PAGE}`,
    );
  }
  const size = typeof maxResults === 'number' && maxResults > 0 ? maxResults : DEFAULT_PAGE;
  let start = 0;
  if (nextToken !== undefined && nextToken !== null) {
    let key: string | undefined;
    try {
      key =
        typeof nextToken === 'string'
          ? (JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8')) as { k?: string }).k
          : undefined;
    } catch {
      key = undefined;
    }
    const index = key === undefined ? -1 : items.findIndex((item) => keyOf(item) === key);
    if (index < 0) throw new SfnError('InvalidToken', "Invalid Token: 'Invalid token'");
    start = index + 1;
  }
  const page = items.slice(start, start + size);
  const last = page.at(-1);
  return start + size < items.length && last !== undefined
    ? { items: page, nextToken: Buffer.from(JSON.stringify({ k: keyOf(last) })).toString('base64url') }
    : { items: page };
};
