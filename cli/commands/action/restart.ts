import { actionCommand } from './run.js';

export const actionRestartCommand = actionCommand('restart', 'Restart the game servers on hosts');
