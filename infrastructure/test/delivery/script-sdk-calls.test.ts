// Every AWS SDK command a workflow script sends has its IAM action in that script's row of SCRIPT_CALLS, and
// every script that imports the SDK has a row: a call added to a script fails here before it fails in AWS.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import t from 'tap';
import { SCRIPT_CALLS } from './iam/fixtures/workflow-calls.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SCRIPTS = '.github/scripts';
// The SDK client's package name and the service prefix of its IAM actions differ for a few services.
const PREFIX: Record<string, string> = { 'cloudwatch-logs': 'logs' };
// Operations whose IAM action has another name (Service Authorization Reference).
const ACTION: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };

/** `service:Action` for each `XCommand` and `paginateX` a script imports from `@aws-sdk/client-*`. */
function sdkActions(source: string): string[] {
  const actions: string[] = [];
  for (const [, names = '', client = ''] of source.matchAll(
    /import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([\w-]+)'/g,
  )) {
    const service = PREFIX[client] ?? client;
    for (const name of names.split(',').map((n) => n.trim().split(/\s+as\s+/)[0] ?? '')) {
      const action = /^(\w+)Command$/.exec(name)?.[1] ?? /^paginate(\w+)$/.exec(name)?.[1];
      if (action !== undefined) actions.push(ACTION[`${service}:${action}`] ?? `${service}:${action}`);
    }
  }
  return actions;
}

void t.test('each SDK command of a workflow script is in its IAM row', (t) => {
  const scripts = readdirSync(resolve(ROOT, SCRIPTS)).filter((file) => file.endsWith('.mjs'));
  let checked = 0;
  for (const file of scripts) {
    const path = `${SCRIPTS}/${file}`;
    const actions = sdkActions(readFileSync(resolve(ROOT, path), 'utf8'));
    if (actions.length === 0) continue;
    const row = SCRIPT_CALLS[path];
    t.ok(row, `${path} sends AWS calls and has a row in SCRIPT_CALLS`);
    const allowed = new Set(row?.calls.map((call) => call.action));
    for (const action of actions) t.ok(allowed.has(action), `${path}: ${action} is in its row`);
    checked += actions.length;
  }
  t.ok(checked >= 10, `${checked} commands checked`);
  t.end();
});

void t.test('the reading of imports finds commands, paginators and renamed services', (t) => {
  t.same(
    sdkActions(
      "import { GetAliasCommand, InvokeCommand, paginateListAliases, LambdaClient } from '@aws-sdk/client-lambda';\n" +
        "import {\n  FilterLogEventsCommand as Filter,\n} from '@aws-sdk/client-cloudwatch-logs';",
    ),
    ['lambda:GetAlias', 'lambda:InvokeFunction', 'lambda:ListAliases', 'logs:FilterLogEvents'],
  );
  t.end();
});
