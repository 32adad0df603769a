import { decisionCommand } from './decide.js';

export const releaseRejectCommand = decisionCommand(
  'reject',
  'Refuse a release waiting at an approval gate: it rolls back',
);
