import { actionCommand } from './run.js';

export const actionStartCommand = actionCommand('start', 'Start the game servers on hosts');
