const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export const bytes = (value: number | undefined): string => {
  if (value === undefined) return '—';
  let amount = value;
  let unit = 0;
  while (amount >= 1024 && unit < UNITS.length - 1) {
    amount /= 1024;
    unit++;
  }
  return `${unit === 0 ? amount : amount.toFixed(amount < 10 ? 1 : 0)} ${UNITS[unit]}`;
};

export const ago = (iso: string | undefined, now = Date.now()): string => {
  if (!iso) return 'never';
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (seconds < 5) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 129_600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
};

export const dateTime = (iso: string | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '—';

export const targetText = (target: { hosts?: readonly string[]; tags?: Readonly<Record<string, string>> }) =>
  target.hosts
    ? target.hosts.join(', ')
    : Object.entries(target.tags ?? {})
        .map(([key, value]) => `${key}=${value}`)
        .join(', ');

export const counts = (progress: Readonly<Record<string, number>> | undefined): string =>
  Object.entries(progress ?? {})
    .filter(([state, n]) => state !== 'total' && n > 0)
    .map(([state, n]) => `${n} ${state.replace('_', ' ')}`)
    .join(' · ') || 'no jobs yet';

const TAG = /^[^=\s]+=[^=\s]*$/;

/** `region=eu group=demo` → `tag=region%3Deu&tag=group%3Ddemo`; undefined when a part is not key=value. */
export const tagQuery = (text: string): string | undefined => {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.every((part) => TAG.test(part))) return undefined;
  return parts.map((part) => `tag=${encodeURIComponent(part)}`).join('&');
};
