import { decisionCommand } from './decide.js';

export const releaseApproveCommand = decisionCommand(
  'approve',
  'Let a release waiting at an approval gate go on',
);
