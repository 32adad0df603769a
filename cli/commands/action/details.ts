import { actionCommand } from './run.js';

export const actionDetailsCommand = actionCommand(
  'details',
  'Ask hosts for details: versions, instances, players',
);
