// Shared by the scripts that call AWS through the SDK (rollout.mjs, prune-versions.mjs): settings every
// client takes, and AWS errors turned into failures that name the call.
import { CheckError } from './cli-support.mjs';

/** Region, credentials and endpoint (AWS_ENDPOINT_URL) come from the environment, as for the AWS CLI. */
export const CLIENT_SETTINGS = { maxAttempts: 3 };

/** Awaits an SDK call; an AWS error becomes a CheckError naming the operation, the error and its message. */
export async function awsCall(operation, promise) {
  try {
    return await promise;
  } catch (error) {
    const name = error?.name ?? 'Error';
    throw new CheckError(`${operation} failed: ${name}: ${error?.message ?? String(error)}`);
  }
}

/** A required setting from the environment. */
export function required(env, name) {
  const value = env[name]?.trim();
  if (!value) throw new CheckError(`${name} is not set`);
  return value;
}

/** A message GitHub shows as an error annotation on the run (and, outside Actions, nothing extra). */
export function annotate(env, title, message) {
  if (env.GITHUB_ACTIONS !== 'true') return;
  const escaped = message.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  console.log(`::error title=${title}::${escaped}`);
}
