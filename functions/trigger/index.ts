export {
  executionNameFor,
  handleObjectCreated,
  intakeInputFor,
  parseObjectCreatedEvent,
  type TriggerDeps,
  type TriggerResult,
  type TriggerSkipReason,
} from './trigger.js';
