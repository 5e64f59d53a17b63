// Shared by the workflow scripts: explained failures, numeric settings, running as a command.
import { pathToFileURL } from 'node:url';

// Printed as its message, without a stack.
export class CheckError extends Error {}

export function envNumber(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new CheckError(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function reportFailure(label, error) {
  const message = error instanceof CheckError ? error.message : (error?.stack ?? String(error));
  console.error(`${label}: FAILED: ${message}`);
  return 1;
}

// Not when a test imports the module.
export async function runAsCommand(moduleUrl, main) {
  if (process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href) {
    process.exitCode = await main();
  }
}
