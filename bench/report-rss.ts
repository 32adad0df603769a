// Loaded with `--import` into a benchmarked child: reports its peak RSS on stderr at exit.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `GSM_BENCH_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});
