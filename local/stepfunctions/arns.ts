import { SfnError } from './errors.js';

export type ArnKind = 'stateMachine' | 'execution' | 'activity';

export interface Scope {
  readonly region: string;
  readonly accountId: string;
}

/** AWS resource names: 1–80 characters, none of whitespace, brackets, wildcards, control or special characters. */
const FORBIDDEN_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]/u;

export const checkName = (name: unknown, field = 'name'): string => {
  if (typeof name !== 'string' || name.length === 0) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (name.length > 80 || FORBIDDEN_NAME.test(name))
    throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
  return name;
};

export const arnOf = (scope: Scope, kind: ArnKind, ...names: string[]): string =>
  `arn:aws:states:${scope.region}:${scope.accountId}:${kind}:${names.join(':')}`;

/** Validates an ARN's shape and kind; an ARN of the right shape that names nothing is the caller's DoesNotExist. */
export const checkArn = (arn: unknown, kind: ArnKind, field: string): string => {
  if (typeof arn !== 'string' || arn.length === 0) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  const parts = arn.split(':');
  const names = kind === 'execution' ? 2 : 1;
  if (
    parts.length !== 6 + names ||
    parts[0] !== 'arn' ||
    parts[2] !== 'states' ||
    parts.slice(6).some((part) => !part)
  ) {
    throw new SfnError('InvalidArn', `Invalid Arn: 'Invalid ARN prefix: ${arn}'`);
  }
  if (parts[5] !== kind) {
    throw new SfnError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${parts[5]}'`);
  }
  return arn;
};
