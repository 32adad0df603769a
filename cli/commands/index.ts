import type { CommandDefinition } from '../command.js';
import { actionDetailsCommand } from './action/details.js';
import { actionRestartCommand } from './action/restart.js';
import { actionStartCommand } from './action/start.js';
import { actionStatusCommand } from './action/status.js';
import { actionStopCommand } from './action/stop.js';
import { agentCommand } from './agent.js';
import { devCommand } from './dev.js';
import { gamesAddCommand } from './games/add.js';
import { gamesListCommand } from './games/list.js';
import { hostsAddCommand } from './hosts/add.js';
import { hostsListCommand } from './hosts/list.js';
import { hostsRemoveCommand } from './hosts/remove.js';
import { hostsShowCommand } from './hosts/show.js';
import { hostsTagCommand } from './hosts/tag.js';
import { keysCreateCommand } from './keys/create.js';
import { keysListCommand } from './keys/list.js';
import { keysRevokeCommand } from './keys/revoke.js';
import { packageDeleteCommand } from './package/delete.js';
import { packageListCommand } from './package/list.js';
import { packagePushCommand } from './package/push.js';
import { packageShowCommand } from './package/show.js';
import { relayCommand } from './relay.js';
import { releaseApproveCommand } from './release/approve.js';
import { releaseCancelCommand } from './release/cancel.js';
import { releaseCreateCommand } from './release/create.js';
import { releaseListCommand } from './release/list.js';
import { releaseRejectCommand } from './release/reject.js';
import { releaseRollbackCommand } from './release/rollback.js';
import { releaseShowCommand } from './release/show.js';

export interface CommandRegistration {
  /** The words after `gsm`: a noun and a verb, or one word. */
  readonly command: string;
  readonly definition: CommandDefinition;
}

/** What `gsm <noun>` alone is about, in `gsm --help`. */
export const NOUNS: Readonly<Record<string, string>> = {
  hosts: 'game hosts and download origins',
  games: 'game definitions',
  keys: 'API keys (admin)',
  package: 'game-server builds: push, list, show, delete',
  action: 'run an action on hosts: start, stop, restart, status, details',
  release: 'ship a package to hosts in waves: create, list, show, approve, reject, cancel, rollback',
};

export const COMMANDS: readonly CommandRegistration[] = [
  { command: 'dev', definition: devCommand },
  { command: 'agent', definition: agentCommand },
  { command: 'relay', definition: relayCommand },
  { command: 'hosts list', definition: hostsListCommand },
  { command: 'hosts add', definition: hostsAddCommand },
  { command: 'hosts show', definition: hostsShowCommand },
  { command: 'hosts tag', definition: hostsTagCommand },
  { command: 'hosts remove', definition: hostsRemoveCommand },
  { command: 'games list', definition: gamesListCommand },
  { command: 'games add', definition: gamesAddCommand },
  { command: 'keys create', definition: keysCreateCommand },
  { command: 'keys list', definition: keysListCommand },
  { command: 'keys revoke', definition: keysRevokeCommand },
  { command: 'package push', definition: packagePushCommand },
  { command: 'package list', definition: packageListCommand },
  { command: 'package show', definition: packageShowCommand },
  { command: 'package delete', definition: packageDeleteCommand },
  { command: 'action start', definition: actionStartCommand },
  { command: 'action stop', definition: actionStopCommand },
  { command: 'action restart', definition: actionRestartCommand },
  { command: 'action status', definition: actionStatusCommand },
  { command: 'action details', definition: actionDetailsCommand },
  { command: 'release create', definition: releaseCreateCommand },
  { command: 'release list', definition: releaseListCommand },
  { command: 'release show', definition: releaseShowCommand },
  { command: 'release approve', definition: releaseApproveCommand },
  { command: 'release reject', definition: releaseRejectCommand },
  { command: 'release cancel', definition: releaseCancelCommand },
  { command: 'release rollback', definition: releaseRollbackCommand },
];
