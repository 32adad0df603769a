import { actionCommand } from './run.js';

export const actionStatusCommand = actionCommand('status', "Ask hosts for their game servers' state");
