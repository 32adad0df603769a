import { actionCommand } from './run.js';

export const actionStopCommand = actionCommand('stop', 'Stop the game servers on hosts');
