import { arnOf, checkArn, checkName, type Scope } from './arns.js';
import { type CompiledDefinition, compileDefinition } from './definition.js';
import { SfnError } from './errors.js';

export interface StateMachineRecord {
  readonly arn: string;
  readonly name: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  definition: string;
  compiled: CompiledDefinition;
  roleArn: string;
  readonly creationDate: number;
  updateDate?: number;
}

export interface ActivityRecord {
  readonly arn: string;
  readonly name: string;
  readonly creationDate: number;
}

export interface CreateStateMachineInput {
  readonly name?: unknown;
  readonly definition?: unknown;
  readonly roleArn?: unknown;
  readonly type?: unknown;
}

const requireString = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
};

/** State machines and activities, in creation order. */
export class Registry {
  private readonly machines = new Map<string, StateMachineRecord>();
  private readonly activities = new Map<string, ActivityRecord>();

  constructor(private readonly scope: Scope) {}

  createStateMachine(input: CreateStateMachineInput): StateMachineRecord {
    const name = checkName(input.name);
    const definition = requireString(input.definition, 'definition');
    const roleArn = requireString(input.roleArn, 'roleArn');
    const type = input.type ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') {
      throw new SfnError(
        'ValidationException',
        `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]`,
      );
    }
    const compiled = compileDefinition(definition);
    const arn = arnOf(this.scope, 'stateMachine', name);
    const existing = this.machines.get(arn);
    if (existing) {
      // AWS makes CreateStateMachine idempotent for an identical request only.
      if (existing.definition === definition && existing.roleArn === roleArn && existing.type === type)
        return existing;
      throw new SfnError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const record: StateMachineRecord = {
      arn,
      name,
      type,
      definition,
      compiled,
      roleArn,
      creationDate: Date.now(),
    };
    this.machines.set(arn, record);
    return record;
  }

  /** Running executions keep the definition they started with (they hold their own compiled copy). */
  updateStateMachine(arnValue: unknown, definition: unknown, roleArn: unknown): StateMachineRecord {
    const record = this.stateMachine(arnValue);
    if (definition === undefined && roleArn === undefined) {
      throw new SfnError(
        'ValidationException',
        'Either the definition, the roleArn or the loggingConfiguration must be specified',
      );
    }
    if (definition !== undefined) {
      const text = requireString(definition, 'definition');
      record.compiled = compileDefinition(text);
      record.definition = text;
    }
    if (roleArn !== undefined) record.roleArn = requireString(roleArn, 'roleArn');
    record.updateDate = Date.now();
    return record;
  }

  stateMachine(arnValue: unknown): StateMachineRecord {
    const arn = checkArn(arnValue, 'stateMachine', 'stateMachineArn');
    const record = this.machines.get(arn);
    if (!record) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return record;
  }

  deleteStateMachine(arnValue: unknown): void {
    this.machines.delete(checkArn(arnValue, 'stateMachine', 'stateMachineArn'));
  }

  listStateMachines(): StateMachineRecord[] {
    return [...this.machines.values()];
  }

  createActivity(nameValue: unknown): ActivityRecord {
    const name = checkName(nameValue);
    const arn = arnOf(this.scope, 'activity', name);
    let record = this.activities.get(arn);
    if (!record) {
      record = { arn, name, creationDate: Date.now() };
      this.activities.set(arn, record);
    }
    return record;
  }

  activity(arnValue: unknown): ActivityRecord {
    const arn = checkArn(arnValue, 'activity', 'activityArn');
    const record = this.activities.get(arn);
    if (!record) throw new SfnError('ActivityDoesNotExist', `Activity Does Not Exist: '${arn}'`);
    return record;
  }

  hasActivity(arn: string): boolean {
    return this.activities.has(arn);
  }

  deleteActivity(arnValue: unknown): void {
    this.activities.delete(checkArn(arnValue, 'activity', 'activityArn'));
  }

  listActivities(): ActivityRecord[] {
    return [...this.activities.values()];
  }
}
