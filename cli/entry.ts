// Runs the CLI from source (`node --import tsx cli/entry.ts ...`), as bin/gsm.js runs it from dist/.
import '../local/polyfills.js';
import { main } from './main.js';

process.exitCode = await main(process.argv);
