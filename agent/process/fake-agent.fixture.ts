/**
 * A stand-in for the agent in the adoption test: starts the demo game under a Supervisor,
 * prints `READY <pid>`, then waits to be killed with SIGKILL.
 *
 *   node --import tsx agent/process/fake-agent.fixture.ts RUN_DIR RELEASE_DIR PORT CONTROL
 */
import { demoLaunch, demoSupervisor } from './testing.js';

const [runDir, releaseDir, port, control] = process.argv.slice(2);
if (!runDir || !releaseDir || !port || !control) {
  process.stderr.write('usage: fake-agent RUN_DIR RELEASE_DIR PORT CONTROL\n');
  process.exit(2);
}
const supervisor = demoSupervisor(runDir);
const { pid } = await supervisor.start(demoLaunch(releaseDir, Number(port), control));
process.stdout.write(`READY ${pid}\n`);
setInterval(() => {}, 60_000);
