// Lambda refuses a reservation that leaves the account fewer than 100 unreserved executions, and a new
// account's quota can be 10: the preview reads the quota and fails first (docs/database.md#connection-budget).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Service Quotas' code for Lambda's "Concurrent executions" (per account and region). */
export const LAMBDA_CONCURRENCY_QUOTA_CODE = 'L-B99A9384';
/** UnreservedConcurrentExecutions Lambda keeps beside every reservation (PutFunctionConcurrency). */
const UNRESERVED_MINIMUM = 100;

/** Undefined when `reserved` fits the quota; otherwise what to ask for. Other functions' reservations are not seen. */
export function concurrencyQuotaProblem(reserved: number, quota: number, region: string): string | undefined {
  const needed = reserved + UNRESERVED_MINIMUM;
  if (quota >= needed) return undefined;
  return (
    `reservedConcurrency ${reserved} needs the account's Lambda concurrent executions quota ` +
    `(${LAMBDA_CONCURRENCY_QUOTA_CODE}) to be at least ${needed} (Lambda keeps ${UNRESERVED_MINIMUM} unreserved); ` +
    `it is ${quota} in ${region}. Request more with \`aws service-quotas request-service-quota-increase ` +
    `--service-code lambda --quota-code ${LAMBDA_CONCURRENCY_QUOTA_CODE} --desired-value ${Math.max(1000, needed)} ` +
    `--region ${region}\` and deploy once it is granted, or set reservedConcurrency lower`
  );
}

/** The account's quota, read only when the function reserves concurrency; rejects a reservation it cannot hold. */
export async function checkConcurrencyQuota(
  reserved: number | undefined,
  region: string,
  opts: pulumi.InvokeOptions,
): Promise<number | undefined> {
  if (reserved === undefined) return undefined;
  const { value } = await aws.servicequotas.getServiceQuota(
    { serviceCode: 'lambda', quotaCode: LAMBDA_CONCURRENCY_QUOTA_CODE },
    opts,
  );
  const problem = concurrencyQuotaProblem(reserved, value, region);
  if (problem !== undefined) throw new pulumi.RunError(problem);
  return value;
}
