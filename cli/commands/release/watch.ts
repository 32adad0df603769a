import type { ApiClient, ReleaseDetailView } from '../../client.js';
import type { CommandContext } from '../../command.js';
import { followReleaseLive } from './events.js';
import { liveLines, plainTracker, printRelease, printSummary } from './view.js';

/**
 * Follows a release to its end with the live view (redrawn on a terminal, plain lines
 * otherwise, nothing but the final JSON with --json), prints the summary and sets the exit
 * code: 0 only for `succeeded`.
 */
export const watchRelease = async (
  client: ApiClient,
  id: string,
  { out, json, setExitCode }: Pick<CommandContext, 'out' | 'json' | 'setExitCode'>,
  intervalMs = 1000,
): Promise<ReleaseDetailView> => {
  const live = json ? undefined : out.live();
  const plain = json || live ? undefined : plainTracker((line) => out.info(line));
  let detail: ReleaseDetailView;
  try {
    detail = await followReleaseLive(
      client,
      id,
      (d) => {
        if (live) live.draw(liveLines(d));
        else plain?.(d);
      },
      { intervalMs },
    );
  } finally {
    live?.stop();
  }
  if (detail.state !== 'succeeded') setExitCode(1);
  if (json) printRelease(out, json, detail);
  else printSummary(out, detail);
  return detail;
};
