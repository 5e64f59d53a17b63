#!/usr/bin/env node
// Deletes published Lambda versions outside the rollback window (the newest PRUNE_KEEP), never one an alias
// or its traffic split points at, nor the version just deployed. Exit code 0, or 1 when it cannot list them.
import {
  DeleteFunctionCommand,
  LambdaClient,
  paginateListAliases,
  paginateListVersionsByFunction,
} from '@aws-sdk/client-lambda';
import { awsCall, CLIENT_SETTINGS, required } from './aws-support.mjs';
import { CheckError, reportFailure, runAsCommand } from './cli-support.mjs';

/** Which numbered versions go: all but the newest `keep` and every protected one. */
function versionsToDelete(versions, protectedVersions, keep) {
  const numbered = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return numbered.slice(keep).filter((v) => !protectedVersions.has(v));
}

async function collect(paginator, key) {
  const items = [];
  for await (const page of paginator) items.push(...(page[key] ?? []));
  return items;
}

export async function runPrune(env = process.env, log = console.log) {
  const functionName = required(env, 'ROLLOUT_FUNCTION');
  const target = required(env, 'ROLLOUT_TARGET_VERSION');
  const keepRaw = required(env, 'PRUNE_KEEP');
  if (!/^\d+$/.test(keepRaw) || Number(keepRaw) < 1) {
    throw new CheckError(`PRUNE_KEEP must be a whole number of versions ≥ 1, got "${keepRaw}"`);
  }
  const keep = Number(keepRaw);
  const lambda = new LambdaClient(CLIENT_SETTINGS);
  const aliases = await awsCall(
    `ListAliases ${functionName}`,
    collect(paginateListAliases({ client: lambda }, { FunctionName: functionName }), 'Aliases'),
  );
  const protectedVersions = new Set([target]);
  for (const alias of aliases) {
    protectedVersions.add(alias.FunctionVersion);
    for (const version of Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {}))
      protectedVersions.add(version);
  }
  const versions = await awsCall(
    `ListVersionsByFunction ${functionName}`,
    collect(paginateListVersionsByFunction({ client: lambda }, { FunctionName: functionName }), 'Versions'),
  );
  const doomed = versionsToDelete(
    versions.map((v) => v.Version ?? ''),
    protectedVersions,
    keep,
  );
  const kept = [...protectedVersions].sort((a, b) => Number(a) - Number(b)).join(', ');
  log(
    `prune: ${functionName}: ${versions.filter((v) => /^\d+$/.test(v.Version ?? '')).length} published version(s), keeping the newest ${keep} ` +
      `and ${kept} (aliases, traffic split, this deploy); deleting ${doomed.length}`,
  );
  let failed = 0;
  for (const version of doomed) {
    try {
      await awsCall(
        `DeleteFunction ${functionName}:${version}`,
        lambda.send(new DeleteFunctionCommand({ FunctionName: functionName, Qualifier: version })),
      );
      log(`✓ deleted version ${version}`);
    } catch (error) {
      // A version still in use elsewhere (an event source mapping, a new alias) stays; the deploy stands.
      failed++;
      log(`! kept version ${version}: ${error.message}`);
    }
  }
  if (failed > 0 && env.GITHUB_ACTIONS === 'true')
    console.log(`::warning title=Version pruning::${failed} old version(s) could not be deleted`);
}

async function main() {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(
      'usage: ROLLOUT_FUNCTION=… ROLLOUT_TARGET_VERSION=… PRUNE_KEEP=5 node .github/scripts/prune-versions.mjs',
    );
    return 0;
  }
  try {
    await runPrune();
    return 0;
  } catch (error) {
    return reportFailure('prune', error);
  }
}

await runAsCommand(import.meta.url, main);
