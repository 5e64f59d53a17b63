#!/usr/bin/env node
// Moves the `live` alias to the version `pulumi up` published: smoke-checks that version, then shifts traffic
// with CodeDeploy and watches it, naming the alarm on a rollback (ROLLOUT_* settings: docs/deploy.md).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { annotate, awsCall, CLIENT_SETTINGS, required } from './aws-support.mjs';
import { CheckError, envNumber, reportFailure, runAsCommand, sleep } from './cli-support.mjs';
import { check } from './lambda-invoke.mjs';

const EVENT_FILE = '.github/events/http-api-v2.json';
const DONE = new Set(['Succeeded', 'Failed', 'Stopped']);
// How far back a rolled-back deployment of the same version refuses a new one (versions are never reused).
const HISTORY_DAYS = 90;
const HISTORY_PAGES = 5;

/** The stack's outputs and the rollout's bounds, from the environment the workflow step sets. */
function readSettings(env) {
  const application = env.ROLLOUT_APPLICATION?.trim() ?? '';
  const deploymentGroup = env.ROLLOUT_DEPLOYMENT_GROUP?.trim() ?? '';
  if ((application === '') !== (deploymentGroup === '')) {
    throw new CheckError('ROLLOUT_APPLICATION and ROLLOUT_DEPLOYMENT_GROUP are set together or not at all');
  }
  // The stack's own word (trafficShift output) must agree with what it exports for CodeDeploy.
  const shift = env.ROLLOUT_TRAFFIC_SHIFT?.trim() ?? '';
  if (shift !== '' && (shift === 'all-at-once') !== (application === '')) {
    throw new CheckError(
      `the stack shifts traffic "${shift}" but ${application === '' ? 'exports no' : 'also exports a'} CodeDeploy application`,
    );
  }
  const target = required(env, 'ROLLOUT_TARGET_VERSION');
  if (!/^\d+$/.test(target))
    throw new CheckError(`ROLLOUT_TARGET_VERSION must be a version number, got "${target}"`);
  return {
    functionName: required(env, 'ROLLOUT_FUNCTION'),
    alias: env.ROLLOUT_ALIAS?.trim() || 'live',
    target,
    application,
    deploymentGroup,
    alarms: parseList(env.ROLLOUT_ALARMS),
    deploymentConfig: env.ROLLOUT_DEPLOYMENT_CONFIG?.trim() ?? '',
    // Unset: the configuration's own shift time plus the margin.
    timeoutMinutes: env.ROLLOUT_TIMEOUT_MINUTES ? envNumber(env, 'ROLLOUT_TIMEOUT_MINUTES', 0) : undefined,
    marginMinutes: envNumber(env, 'ROLLOUT_MARGIN_MINUTES', 10),
    maxMinutes: envNumber(env, 'ROLLOUT_MAX_MINUTES', Infinity),
    retryRolledBack: env.ROLLOUT_RETRY_ROLLED_BACK?.trim() === 'true',
    pollMs: envNumber(env, 'ROLLOUT_POLL_SECONDS', 15) * 1000,
    settleMs: envNumber(env, 'ROLLOUT_ROLLBACK_WAIT_SECONDS', 300) * 1000,
    apiKey: env.SMOKE_API_KEY ?? '',
    description: env.ROLLOUT_DESCRIPTION ?? '',
  };
}

/** A JSON array (a Pulumi output as the workflow prints it) or a comma-separated list. */
function parseList(raw) {
  const text = raw?.trim() ?? '';
  if (text === '') return [];
  if (text.startsWith('[')) {
    const list = JSON.parse(text);
    if (Array.isArray(list)) return list.map(String);
  }
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

const describeRouting = (alias) => {
  const weights = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
  if (weights.length === 0) return `version ${alias.FunctionVersion}`;
  const shifted = weights.map(
    ([version, weight]) => `${Math.round(weight * 1000) / 10} % on version ${version}`,
  );
  return `version ${alias.FunctionVersion} with ${shifted.join(', ')}`;
};

/** Invokes the new version directly (no traffic reaches it yet) with API Gateway's HTTP API v2 event. */
async function invokeVersion(lambda, settings, template, path, expectStatus, headers = {}) {
  const [rawPath, rawQueryString = ''] = path.split('?');
  const event = structuredClone(template);
  event.rawPath = rawPath;
  event.rawQueryString = rawQueryString;
  event.headers = { ...event.headers, ...headers };
  event.requestContext.http.path = rawPath;
  event.requestContext.requestId = `rollout-${Date.now().toString(36)}`;
  const output = await awsCall(
    `Invoke ${settings.functionName}:${settings.target}`,
    lambda.send(
      new InvokeCommand({
        FunctionName: settings.functionName,
        Qualifier: settings.target,
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    ),
  );
  const text = new TextDecoder().decode(output.Payload ?? new Uint8Array());
  try {
    return check({ status: output.StatusCode ?? 0, text }, expectStatus);
  } catch (error) {
    throw new CheckError(`version ${settings.target}: GET ${path}: ${error.message}`);
  }
}

/** `/health`, then one read through the adapter (the books list with a key, else readiness: both reach the database). */
async function smokeVersion(lambda, settings, log) {
  const template = JSON.parse(await readFile(EVENT_FILE, 'utf8'));
  const health = await invokeVersion(lambda, settings, template, '/health', 200);
  log(`✓ version ${settings.target}: GET /health → 200 (traceId ${health.body.traceId})`);
  const [path, headers] = settings.apiKey
    ? ['/v1/books?limit=1', { 'x-api-key': settings.apiKey }]
    : ['/health/ready', {}];
  const read = await invokeVersion(lambda, settings, template, path, 200, headers);
  log(`✓ version ${settings.target}: GET ${path} → 200 (traceId ${read.body.traceId})`);
}

/** Minutes a configuration takes to move all traffic (canary: one interval; linear: one per step). */
function shiftMinutes(routing) {
  if (routing?.type === 'TimeBasedCanary') return routing.timeBasedCanary?.canaryInterval ?? 0;
  if (routing?.type === 'TimeBasedLinear') {
    const { linearPercentage = 100, linearInterval = 0 } = routing.timeBasedLinear ?? {};
    return Math.ceil(100 / linearPercentage) * linearInterval;
  }
  return 0;
}

/** How long the job watches: ROLLOUT_TIMEOUT_MINUTES, else the shift's own time plus the margin. */
async function timeoutMinutes(codedeploy, settings) {
  if (settings.timeoutMinutes !== undefined) return settings.timeoutMinutes;
  if (settings.deploymentConfig === '') return 30;
  const { deploymentConfigInfo: info } = await awsCall(
    `GetDeploymentConfig ${settings.deploymentConfig}`,
    codedeploy.send(new GetDeploymentConfigCommand({ deploymentConfigName: settings.deploymentConfig })),
  );
  return shiftMinutes(info?.trafficRoutingConfig) + settings.marginMinutes;
}

/** The Lambda AppSpec: CodeDeploy shifts `alias` from CurrentVersion to TargetVersion. */
function appSpec(settings, current) {
  return JSON.stringify({
    version: 0.0,
    Resources: [
      {
        service: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Name: settings.functionName,
            Alias: settings.alias,
            CurrentVersion: current,
            TargetVersion: settings.target,
          },
        },
      },
    ],
  });
}

/** The alarms of the group that were in ALARM during the deployment (their history), else now. */
async function firedAlarms(cloudwatch, settings, info) {
  const named = settings.alarms.filter((name) => info.errorInformation?.message?.includes(name));
  if (settings.alarms.length === 0) return named.map((name) => ({ name, detail: '' }));
  const fired = [];
  for (const name of settings.alarms) {
    const history = await awsCall(
      `DescribeAlarmHistory ${name}`,
      cloudwatch.send(
        new DescribeAlarmHistoryCommand({
          AlarmName: name,
          HistoryItemType: 'StateUpdate',
          StartDate: info.createTime,
          ScanBy: 'TimestampAscending',
        }),
      ),
    );
    const toAlarm = (history.AlarmHistoryItems ?? []).find((item) => {
      try {
        return JSON.parse(item.HistoryData ?? '{}')?.newState?.stateValue === 'ALARM';
      } catch {
        return false;
      }
    });
    if (toAlarm !== undefined) {
      const reason = JSON.parse(toAlarm.HistoryData ?? '{}')?.newState?.stateReason ?? toAlarm.HistorySummary;
      fired.push({ name, detail: ` at ${new Date(toAlarm.Timestamp).toISOString()} (${reason})` });
    }
  }
  if (fired.length > 0) return fired;
  const states = await awsCall(
    'DescribeAlarms',
    cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: settings.alarms })),
  );
  const now = (states.MetricAlarms ?? [])
    .filter((alarm) => alarm.StateValue === 'ALARM')
    .map((alarm) => ({
      name: alarm.AlarmName ?? '?',
      detail: ` (in ALARM now: ${alarm.StateReason ?? ''})`,
    }));
  return now.length > 0 ? now : named.map((name) => ({ name, detail: '' }));
}

const getDeployment = async (codedeploy, deploymentId) =>
  (
    await awsCall(
      `GetDeployment ${deploymentId}`,
      codedeploy.send(new GetDeploymentCommand({ deploymentId })),
    )
  ).deploymentInfo;

const isSplit = (alias) => Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).length > 0;

/**
 * CodeDeploy rolls back in a deployment of its own, started after the first one ended: waits (bounded) for
 * it and for `live` to be whole again, so the message and the state refresh after the job say where it is.
 */
async function settle(clients, settings, deploymentId, log) {
  const deadline = Date.now() + settings.settleMs;
  for (;;) {
    const info = await getDeployment(clients.codedeploy, deploymentId);
    const rollbackId = info.rollbackInfo?.rollbackDeploymentId;
    const rollback = rollbackId ? await getDeployment(clients.codedeploy, rollbackId) : undefined;
    const alias = await getAlias(clients.lambda, settings);
    const settled =
      DONE.has(info.status) && !isSplit(alias) && (rollback === undefined || DONE.has(rollback.status));
    if (settled || Date.now() >= deadline) return { info, rollback, alias, settled };
    log(
      `… waiting for the rollback: ${rollbackId ?? 'not started'}, ${settings.alias} on ${describeRouting(alias)}`,
    );
    await sleep(Math.min(settings.pollMs, Math.max(0, deadline - Date.now())));
  }
}

const whereLive = (settings, { alias, settled }, current) =>
  `${settings.alias} is on ${describeRouting(alias)}${settled ? '' : ` after ${settings.settleMs / 1000} s of waiting for the rollback (see "Roll back by hand" in docs/deploy.md)`} (was ${current}, target ${settings.target}).`;

async function failureMessage(clients, settings, info, current, log) {
  const error = info.errorInformation;
  const said = error ? `${error.code ?? 'error'}: ${error.message ?? ''}` : 'no error information';
  const fired = await firedAlarms(clients.cloudwatch, settings, info);
  const cause =
    fired.length > 0
      ? fired.map(({ name, detail }) => `alarm ${name} fired${detail}`).join('; ')
      : `no alarm of the deployment group fired; CodeDeploy says ${said}`;
  const settledState = await settle(clients, settings, info.deploymentId, log);
  const { rollback } = settledState;
  const rolledBack = rollback
    ? ` CodeDeploy rolled back (rollback deployment ${rollback.deploymentId} ${rollback.status}).`
    : '';
  return `deployment ${info.deploymentId} ${info.status}: ${cause}.${rolledBack} ${whereLive(settings, settledState, current)}`;
}

// The description ends with the versions, so a later run can tell which version a deployment shifted to.
const describeDeployment = (settings, current) =>
  [settings.description, `version ${current} → ${settings.target}`].filter(Boolean).join(': ');
const VERSIONS_IN_DESCRIPTION = /version \d+ → (\d+)$/;

/** The newest deployment of the group that shifted to the target version and was rolled back, if any. */
async function rolledBackDeployment(codedeploy, settings) {
  const start = new Date(Date.now() - HISTORY_DAYS * 86_400_000);
  let nextToken;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const list = await awsCall(
      `ListDeployments in ${settings.application}/${settings.deploymentGroup}`,
      codedeploy.send(
        new ListDeploymentsCommand({
          applicationName: settings.application,
          deploymentGroupName: settings.deploymentGroup,
          includeOnlyStatuses: ['Failed', 'Stopped'],
          createTimeRange: { start },
          nextToken,
        }),
      ),
    );
    for (const id of list.deployments ?? []) {
      const info = await getDeployment(codedeploy, id);
      const target = VERSIONS_IN_DESCRIPTION.exec(info.description ?? '')?.[1];
      if (target === settings.target && info.rollbackInfo?.rollbackDeploymentId) return info;
    }
    nextToken = list.nextToken;
    if (!nextToken) return undefined;
  }
  return undefined;
}

/** A re-run after a rollback would send traffic to the version that failed again: refused unless asked. */
async function refuseRolledBack(codedeploy, settings, log) {
  const earlier = await rolledBackDeployment(codedeploy, settings);
  if (earlier === undefined) return;
  const when = earlier.completeTime ? ` at ${new Date(earlier.completeTime).toISOString()}` : '';
  const why = earlier.errorInformation?.message ? ` (${earlier.errorInformation.message})` : '';
  const what = `version ${settings.target} was rolled back by deployment ${earlier.deploymentId}${when}${why}`;
  if (settings.retryRolledBack) {
    log(`rollout: ${what}; shifting to it again as ROLLOUT_RETRY_ROLLED_BACK asks`);
    return;
  }
  throw new CheckError(
    `${what}: shifting to it again would repeat the failure. Deploy a fix (a new version), or rerun with ` +
      `ROLLOUT_RETRY_ROLLED_BACK=true if the cause is gone (see "Rollout in the deploy job" in docs/deploy.md)`,
  );
}

const getAlias = (lambda, settings) =>
  awsCall(
    `GetAlias ${settings.functionName}:${settings.alias}`,
    lambda.send(new GetAliasCommand({ FunctionName: settings.functionName, Name: settings.alias })),
  );

/** Watches a deployment to its end; on the deadline stops it with rollback. Returns the final info. */
async function watch(clients, settings, deploymentId, timeoutMs, log) {
  const started = Date.now();
  let last = '';
  for (;;) {
    const info = await getDeployment(clients.codedeploy, deploymentId);
    const seconds = Math.round((Date.now() - started) / 1000);
    if (DONE.has(info.status)) {
      log(`… ${seconds} s: deployment ${deploymentId} ${info.status}`);
      return { info, timedOut: false };
    }
    const alias = await getAlias(clients.lambda, settings);
    const now = `${info.status}, ${settings.alias} on ${describeRouting(alias)}`;
    if (now !== last) log(`… ${seconds} s: ${now}`);
    last = now;
    if (Date.now() - started >= timeoutMs) return { info, timedOut: true };
    await sleep(Math.min(settings.pollMs, Math.max(0, started + timeoutMs - Date.now())));
  }
}

export async function runRollout(env = process.env, log = console.log) {
  const settings = readSettings(env);
  const clients = {
    lambda: new LambdaClient(CLIENT_SETTINGS),
    codedeploy: new CodeDeployClient(CLIENT_SETTINGS),
    cloudwatch: new CloudWatchClient(CLIENT_SETTINGS),
  };
  const before = await getAlias(clients.lambda, settings);
  const current = before.FunctionVersion;
  log(
    `rollout: ${settings.functionName}:${settings.alias} is on ${describeRouting(before)}; new version ${settings.target}`,
  );
  await smokeVersion(clients.lambda, settings, log);

  if (settings.application === '') {
    if (current !== settings.target) {
      throw new CheckError(
        `all-at-once stack, but ${settings.alias} is on ${describeRouting(before)}, not the new version ${settings.target}`,
      );
    }
    log(`rollout: all-at-once stack: pulumi up moved ${settings.alias} itself; no traffic shift`);
    return;
  }
  if (current === settings.target) {
    log(`rollout: ${settings.alias} already runs version ${settings.target}; nothing to shift`);
    return;
  }
  if (Object.keys(before.RoutingConfig?.AdditionalVersionWeights ?? {}).length > 0) {
    throw new CheckError(
      `${settings.alias} still splits traffic (${describeRouting(before)}): another deployment is running or ` +
        `was left half-done; see "Roll back by hand" in docs/deploy.md`,
    );
  }
  await refuseRolledBack(clients.codedeploy, settings, log);
  const minutes = await timeoutMinutes(clients.codedeploy, settings);
  if (minutes > settings.maxMinutes) {
    throw new CheckError(
      `a shift with ${settings.deploymentConfig || 'this configuration'} takes up to ${minutes} min, more than this job ` +
        `waits (ROLLOUT_MAX_MINUTES ${settings.maxMinutes}); choose a shorter trafficShiftMinutes or a larger trafficShiftPercent`,
    );
  }
  const content = appSpec(settings, current);
  const { deploymentId } = await awsCall(
    `CreateDeployment in ${settings.application}/${settings.deploymentGroup}`,
    clients.codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: settings.application,
        deploymentGroupName: settings.deploymentGroup,
        description: describeDeployment(settings, current),
        revision: {
          revisionType: 'AppSpecContent',
          appSpecContent: { content, sha256: createHash('sha256').update(content).digest('hex') },
        },
      }),
    ),
  );
  log(
    `rollout: deployment ${deploymentId}: version ${current} → ${settings.target}, watched for up to ${minutes} min`,
  );

  const { info, timedOut } = await watch(clients, settings, deploymentId, minutes * 60_000, log);
  if (timedOut) {
    const stop = await awsCall(
      `StopDeployment ${deploymentId}`,
      clients.codedeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true })),
    );
    const settledState = await settle(clients, settings, deploymentId, log);
    throw new CheckError(
      `deployment ${deploymentId} did not finish within ${minutes} min (still ${info.status}); ` +
        `stopped it with automatic rollback (${stop.status ?? '?'}: ${stop.statusMessage ?? ''}). ` +
        whereLive(settings, settledState, current),
    );
  }
  if (info.status !== 'Succeeded')
    throw new CheckError(await failureMessage(clients, settings, info, current, log));
  const after = await getAlias(clients.lambda, settings);
  log(`rollout: deployment ${deploymentId} Succeeded: ${settings.alias} is on ${describeRouting(after)}`);
}

async function main() {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log('usage: ROLLOUT_FUNCTION=… ROLLOUT_TARGET_VERSION=… node .github/scripts/rollout.mjs');
    return 0;
  }
  try {
    await runRollout();
    return 0;
  } catch (error) {
    if (error instanceof CheckError) annotate(process.env, 'Rollout failed', error.message);
    return reportFailure('rollout', error);
  }
}

await runAsCommand(import.meta.url, main);
