/** Reads `$`, `$.a.b`, `$['a']` and `$.a[0]`; anything richer (filters, `$$`) gives undefined. */
export const readSimplePath = (path: string, value: unknown): unknown => {
  if (!path.startsWith('$') || path.startsWith('$$')) return undefined;
  const rest = path.slice(1);
  const steps = rest.match(/\.[^.[\]]+|\[\d+\]|\['[^']*'\]/g) ?? [];
  if (steps.join('') !== rest) return undefined;
  let current: unknown = value;
  for (const step of steps) {
    if (typeof current !== 'object' || current === null) return undefined;
    const key = step.startsWith('.')
      ? step.slice(1)
      : step.startsWith("['")
        ? step.slice(2, -2)
        : Number(step.slice(1, -1));
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
};
