import { DEMO_RELEASE_COMMAND, demoReleaseSummary } from './demo/release.js';
import { type DevOptions, startDevStack } from './dev.js';

/** `gsm dev`: start, print where everything is, run until Ctrl-C or SIGTERM. */
export const runDev = async (options: DevOptions = {}): Promise<number> => {
  const started = performance.now();
  const stack = await startDevStack({
    demoRelease: true,
    ...options,
    // Without the demo release, demo 1.1.0 is still staged: a release of it is one command away.
    stageDemoNext: true,
    onDemoInstalled: (report) =>
      console.log(
        report.failed.length === 0
          ? `demo fleet installed: demo 1.0.0 serving on ${report.ready.length} hosts`
          : `demo fleet installed on ${report.ready.length} hosts; failed: ${report.failed.map((f) => `${f.id} (${f.reason})`).join(', ')}`,
      ),
    onDemoRelease: (line) => console.log(line),
  });
  const { endpoints, fleet, demoRelease, demoStaged } = stack;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const consoleUrl = `${endpoints.api}/console/`;
  console.log(`gsm dev is up in ${seconds}s (DynamoDB: ${endpoints.dynamodbEngine})

  API             ${endpoints.api}
  console         ${consoleUrl}
  API key         ${endpoints.apiKey}
  DynamoDB        ${endpoints.dynamodb}   table ${endpoints.table}
  S3              ${endpoints.s3}   bucket ${endpoints.bucket} (path-style)
  Step Functions  ${endpoints.stepfunctions}
  credentials     ${endpoints.credentials.accessKeyId} / ${endpoints.credentials.secretAccessKey}, region ${endpoints.region}

  relay           in this process (monitor every 5 s)${
    fleet
      ? `
  demo fleet      ${fleet.hosts.length} demo hosts (group=demo), 1 legacy host (group=legacy), origin at ${fleet.origin.baseUrl}
                  installing and starting demo 1.0.0 on them in the background…${
                    demoRelease
                      ? `
  demo release    then demo 1.1.0 is pushed and released to group=demo (canary 1, batch 25%, maxErrors 1);
                  ${fleet.hosts
                    .filter((h) => h.tags.fault === 'health')
                    .map((h) => h.id)
                    .join(', ')} (fault=health) fails its health check and goes back to 1.0.0`
                      : `
  demo release    off (--no-demo-release): demo 1.1.0 is pushed and staged, nothing released;
                  release it yourself: ${DEMO_RELEASE_COMMAND}`
                  }`
      : ''
  }

Written to .gsm/dev.json; try: gsm hosts list${
    fleet ? ', gsm release list, gsm action start --target group=demo --wait' : ''
  }. Ctrl-C stops.`);
  let stopping = false;
  void demoRelease?.then((outcome) => {
    // Stopping aborts following the release: that is no news.
    if (stopping) return;
    if (!outcome.ok) {
      console.log(`demo release did not run to its end: ${outcome.error}`);
      return;
    }
    for (const line of demoReleaseSummary(outcome.release)) console.log(line);
    console.log(`  see it in the console: ${consoleUrl} (or gsm release show ${outcome.release.id})`);
  });
  void demoStaged?.then((outcome) => {
    if (stopping) return;
    console.log(
      outcome.ok
        ? `demo@${outcome.package.version} staged; release it: ${DEMO_RELEASE_COMMAND}`
        : `demo 1.1.0 could not be staged: ${outcome.error}`,
    );
  });
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  stopping = true;
  console.log('stopping…');
  await stack.close();
  return 0;
};
