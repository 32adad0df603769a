import { decisionCommand } from './decide.js';

export const releaseRollbackCommand = decisionCommand(
  'rollback',
  'Roll a release back: a running one is cancelled; an ended one puts the hosts it changed back',
);
