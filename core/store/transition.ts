/**
 * `#state IN (:s0, :s1, …)` for a set of states, with its values. An empty set yields a
 * condition that never holds, so a move with no legal predecessor always fails cleanly.
 */
export const stateIn = (
  states: readonly string[],
  prefix: string,
): { expression: string; values: Record<string, string> } => {
  if (states.length === 0) return { expression: 'attribute_not_exists(#pk)', values: {} };
  const values = Object.fromEntries(states.map((state, i) => [`:${prefix}${i}`, state]));
  return { expression: `#state IN (${Object.keys(values).join(', ')})`, values };
};

/** `SET #a = :a, …` parts for optional fields, skipping the ones left undefined. */
export const setFields = (
  fields: Record<string, unknown>,
): { sets: string[]; names: Record<string, string>; values: Record<string, unknown> } => {
  const sets: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    sets.push(`#f_${name} = :f_${name}`);
    names[`#f_${name}`] = name;
    values[`:f_${name}`] = value;
  }
  return { sets, names, values };
};
