// Lambda refuses a reservation that leaves the account fewer than 100 unreserved executions, and a new
// account's quota can be 10: the preview reads the quota and fails first (docs/database.md#connection-budget).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Service Quotas' code for Lambda's "Concurrent executions" (per account and region). */
const LAMBDA_CONCURRENCY_QUOTA_CODE = 'L-B99A9384';
/** UnreservedConcurrentExecutions Lambda keeps beside every reservation (PutFunctionConcurrency). */
const UNRESERVED_MINIMUM = 100;

/** Undefined when `reserved` fits the quota; otherwise what to ask for. Other functions' reservations are not seen. */
function concurrencyQuotaProblem(
  setting: string,
  reserved: number,
  quota: number,
  region: string,
): string | undefined {
  const needed = reserved + UNRESERVED_MINIMUM;
  if (quota >= needed) return undefined;
  return (
    `${setting} ${reserved} needs the account's Lambda concurrent executions quota ` +
    `(${LAMBDA_CONCURRENCY_QUOTA_CODE}) to be at least ${needed} (Lambda keeps ${UNRESERVED_MINIMUM} unreserved); ` +
    `it is ${quota} in ${region}. Request more with \`aws service-quotas request-service-quota-increase ` +
    `--service-code lambda --quota-code ${LAMBDA_CONCURRENCY_QUOTA_CODE} --desired-value ${Math.max(1000, needed)} ` +
    `--region ${region}\` and deploy once it is granted, or set ${setting} lower`
  );
}

/**
 * The account's quota, read only when the function takes concurrency out of the account's pool (reserved,
 * or provisioned on an unreserved function); rejects what the quota cannot hold beside Lambda's 100.
 */
export async function checkConcurrencyQuota(
  { reserved, provisioned }: { reserved: number | undefined; provisioned: number },
  region: string,
  opts: pulumi.InvokeOptions,
): Promise<number | undefined> {
  // A reservation holds its provisioned concurrency (the deployment settings refuse more).
  const [setting, taken] =
    reserved !== undefined ? ['reservedConcurrency', reserved] : ['provisionedConcurrency', provisioned];
  if (taken === 0) return undefined;
  const { value } = await aws.servicequotas.getServiceQuota(
    { serviceCode: 'lambda', quotaCode: LAMBDA_CONCURRENCY_QUOTA_CODE },
    opts,
  );
  const problem = concurrencyQuotaProblem(setting, taken, value, region);
  if (problem !== undefined) throw new pulumi.RunError(problem);
  return value;
}
