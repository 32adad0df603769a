import { decisionCommand } from './decide.js';

export const releaseCancelCommand = decisionCommand(
  'cancel',
  'Cancel a release: hosts in flight finish, nothing more is dispatched',
);
