import { stepFunctionsEmulated } from './config.js';

/**
 * The AWS console page of a Step Functions execution, for operators who want AWS's own view
 * next to gsm's. Only for executions AWS runs: with an emulator endpoint configured
 * (AWS_ENDPOINT_URL_SFN, as `gsm dev` sets it) the ARN looks real but no console has it.
 */
export const executionConsoleUrl = (
  executionArn: string | undefined,
  emulated: boolean = stepFunctionsEmulated(),
): string | undefined => {
  if (!executionArn || emulated) return undefined;
  // arn:<partition>:states:<region>:<account>:execution:<machine>:<name>
  const [arn, partition, service, region, , kind] = executionArn.split(':');
  if (arn !== 'arn' || service !== 'states' || kind !== 'execution' || !region) return undefined;
  const host =
    partition === 'aws-cn'
      ? `${region}.console.amazonaws.cn`
      : partition === 'aws-us-gov'
        ? `console.amazonaws-us-gov.com`
        : `${region}.console.aws.amazon.com`;
  return `https://${host}/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
};
