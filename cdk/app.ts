import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FEATURE_FLAGS } from './feature-flags.js';
import { GsmStack } from './stacks/gsm-stack.js';

/**
 * `npx cdk synth` / `deploy`. Environment-agnostic on purpose: no account, no region, no
 * lookups, so it synthesizes offline; the region comes from the deploying profile.
 * Context: `-c gsm:stackName=…`, `-c gsm:relayImage=<uri>`, `-c gsm:relayCount=<n>`.
 */
const app = new App({ context: { ...FEATURE_FLAGS } });
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const count = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new Error(`gsm:relayCount must be a whole number, not '${value}'`);
  return parsed;
};
const relayImage = context('gsm:relayImage');
const relayCount = context('gsm:relayCount');
new GsmStack(app, context('gsm:stackName') ?? 'Gsm', {
  ...(relayImage ? { relayImage } : {}),
  ...(relayCount ? { relayCount: count(relayCount) } : {}),
});
// The same pack the tests run (cdk/nag.test.ts): synth stops on any unacknowledged finding.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
