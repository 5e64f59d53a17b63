// The IAM policies of the three GitHub Actions roles and the workload boundary (.github/iam/): well-formed,
// trust per GitHub subject, no escalation past the boundary or into another environment.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import * as SIMULATED from './iam/fixtures/simulate.ts';
import {
  decide as simulate,
  rolePolicies,
  type Policy as RolePolicy,
  type Role,
} from './iam/fixtures/simulate.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const IAM_DIR = resolve(ROOT, '.github/iam');

type Strings = string | string[];
interface Statement {
  Sid?: string;
  Effect: string;
  Action: Strings;
  Resource?: Strings;
  Principal?: { Federated?: string };
  Condition?: Record<string, Record<string, Strings>>;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

const { render } = (await import(pathToFileURL(resolve(ROOT, '.github/scripts/render-iam.mjs')).href)) as {
  render: (template: string, values: Record<string, string>) => unknown;
};

const SAMPLE = {
  AWS_ACCOUNT_ID: '123456789012',
  AWS_REGION: 'eu-west-1',
  OIDC_REPO: 'octo-org/hapi-app',
  STATE_BUCKET: 'hapi-lambda-state-123456789012',
};
const ARN = { region: SAMPLE.AWS_REGION, account: SAMPLE.AWS_ACCOUNT_ID, bucket: SAMPLE.STATE_BUCKET };

const templateNames = readdirSync(IAM_DIR).filter((name) => name.endsWith('.json'));
const template = (name: string) => readFileSync(resolve(IAM_DIR, name), 'utf8');
const load = (name: string, stack = 'prod') => render(template(name), { ...SAMPLE, STACK: stack }) as Policy;
const list = (value: Strings | undefined) =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

// ---- structure -----------------------------------------------------------------------------------------

const KNOWN_KEYS = new Set(['Sid', 'Effect', 'Action', 'Resource', 'Principal', 'Condition']);
const OPERATORS = new Set(['StringEquals', 'StringLike', 'StringNotEquals']);

/** What IAM would reject, or what these templates avoid on purpose (NotAction, unknown operators). */
function structureProblems(policy: unknown, kind: 'trust' | 'permissions'): string[] {
  const problems: string[] = [];
  const doc = policy as Partial<Policy>;
  if (doc.Version !== '2012-10-17') problems.push(`Version must be 2012-10-17, got ${String(doc.Version)}`);
  if (!Array.isArray(doc.Statement) || doc.Statement.length === 0) return [...problems, 'no Statement list'];
  const sids = new Set<string>();
  for (const [index, statement] of doc.Statement.entries()) {
    const label = statement.Sid ?? `statement ${index + 1}`;
    for (const key of Object.keys(statement)) if (!KNOWN_KEYS.has(key)) problems.push(`${label}: key ${key}`);
    if (statement.Sid === undefined || !/^[A-Za-z0-9]+$/.test(statement.Sid))
      problems.push(`${label}: needs an alphanumeric Sid`);
    else if (sids.has(statement.Sid)) problems.push(`${label}: duplicate Sid`);
    else sids.add(statement.Sid);
    if (!['Allow', 'Deny'].includes(statement.Effect)) problems.push(`${label}: Effect`);
    const actions = list(statement.Action);
    if (actions.length === 0 || !actions.every((a) => /^[a-z0-9-]+:[A-Za-z0-9*]+$/.test(a)))
      problems.push(`${label}: Action must be service:Name`);
    if (kind === 'trust') {
      if (statement.Principal?.Federated === undefined)
        problems.push(`${label}: needs a federated Principal`);
      if (statement.Resource !== undefined) problems.push(`${label}: a trust policy has no Resource`);
    } else {
      if (statement.Principal !== undefined) problems.push(`${label}: Principal in a permissions policy`);
      if (list(statement.Resource).length === 0) problems.push(`${label}: needs a Resource`);
    }
    for (const operator of Object.keys(statement.Condition ?? {})) {
      if (!OPERATORS.has(operator)) problems.push(`${label}: condition operator ${operator}`);
    }
  }
  return problems;
}

const kindOf = (name: string) => (name.startsWith('trust-') ? 'trust' : 'permissions');

void t.test('the policy templates are all there', (t) => {
  t.same(templateNames.sort(), [
    'preview-read.json',
    'preview-state.json',
    'stack-dns.json',
    'stack-resources.json',
    'stack-state.json',
    'trust-dev.json',
    'trust-preview.json',
    'trust-prod.json',
    'workload-boundary.json',
  ]);
  t.end();
});

for (const name of templateNames) {
  void t.test(`${name} renders to a well-formed ${kindOf(name)} policy`, (t) => {
    for (const stack of ['prod', 'dev', 'preview-*'])
      t.same(structureProblems(load(name, stack), kindOf(name)), []);
    t.end();
  });
}

void t.test('the structure check rejects malformed policies', (t) => {
  t.same(structureProblems({ Statement: [] }, 'permissions'), [
    'Version must be 2012-10-17, got undefined',
    'no Statement list',
  ]);
  const bad = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', NotAction: 'iam:*', Action: '*', Resource: [] },
      {
        Sid: 'A',
        Effect: 'allow',
        Action: 's3:GetObject',
        Principal: { AWS: '*' },
        Resource: '*',
        Condition: { ForAnyValue: {} },
      },
      { Sid: 'A', Effect: 'Deny', Action: 's3:GetObject', Resource: '*' },
    ],
  };
  t.same(structureProblems(bad, 'permissions'), [
    'statement 1: key NotAction',
    'statement 1: needs an alphanumeric Sid',
    'statement 1: Action must be service:Name',
    'statement 1: needs a Resource',
    'A: Effect',
    'A: Principal in a permissions policy',
    'A: condition operator ForAnyValue',
    'A: duplicate Sid',
  ]);
  t.same(structureProblems({ Version: '2012-10-17', Statement: [bad.Statement[2]] }, 'trust'), [
    'A: needs a federated Principal',
    'A: a trust policy has no Resource',
  ]);
  t.end();
});

// ---- every statement is scoped by name, or says why not -------------------------------------------------

const scopedByName = (resource: string) =>
  resource.includes('hapi-lambda-') || resource.includes(':s3:::hapi-lambda-state-');
const documentedSids = new Set(
  [...readFileSync(resolve(IAM_DIR, 'README.md'), 'utf8').matchAll(/^\| `([A-Za-z0-9]+)` +\|/gm)].map(
    (m) => m[1] ?? '',
  ),
);

void t.test(
  'every Allow outside the name prefix is documented in .github/iam/README.md, and only those',
  (t) => {
    const unscoped = templateNames
      .filter((name) => kindOf(name) === 'permissions')
      .flatMap((name) => load(name).Statement)
      .filter((s) => s.Effect === 'Allow' && !list(s.Resource).every(scopedByName))
      .map((s) => s.Sid ?? '?');
    t.ok(unscoped.length > 0, 'the rule sees unscoped statements');
    t.same(
      unscoped.filter((sid) => !documentedSids.has(sid)),
      [],
      'undocumented',
    );
    t.same(
      [...documentedSids].filter((sid) => !unscoped.includes(sid)),
      [],
      'documented but scoped or gone',
    );
    t.end();
  },
);

// ---- trust: a small evaluator with IAM's decision rules ----------------------------------------------------
// iam-simulate evaluates identity, resource and boundary policies; a web-identity trust policy (federated
// principal, token claims as condition keys) is a plain StringEquals match, checked here directly.

const globToRegExp = (glob: string, flags = '') =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    flags,
  );

interface Request {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

/** Condition keys absent from the request make a condition false, as in IAM (for non-negated operators). */
function conditionsHold(condition: Statement['Condition'], context: Record<string, string>): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const actual = context[key];
      if (actual === undefined) return false;
      if (operator === 'StringEquals') return list(expected).includes(actual);
      if (operator === 'StringLike') return list(expected).some((glob) => globToRegExp(glob).test(actual));
      throw new Error(`the evaluator does not know ${operator}`);
    }),
  );
}

function matches(statement: Statement, request: Request): boolean {
  const action = list(statement.Action).some((glob) => globToRegExp(glob, 'i').test(request.action));
  const resource =
    statement.Resource === undefined ||
    list(statement.Resource).some((glob) => globToRegExp(glob).test(request.resource));
  return action && resource && conditionsHold(statement.Condition, request.context ?? {});
}

function decide(policies: Policy[], request: Request): 'allow' | 'deny' {
  const statements = policies.flatMap((policy) => policy.Statement).filter((s) => matches(s, request));
  if (statements.some((s) => s.Effect === 'Deny')) return 'deny';
  return statements.some((s) => s.Effect === 'Allow') ? 'allow' : 'deny';
}

void t.test('the evaluator: explicit deny wins, globs, absent condition keys', (t) => {
  const policy: Policy = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'A', Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::b/*' },
      { Sid: 'D', Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/secret?' },
      {
        Sid: 'T',
        Effect: 'Allow',
        Action: 'ec2:*',
        Resource: '*',
        Condition: { StringLike: { 'aws:ResourceTag/stack': 'dev' } },
      },
    ],
  };
  t.equal(decide([policy], { action: 's3:getobject', resource: 'arn:aws:s3:::b/x' }), 'allow');
  t.equal(decide([policy], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/secret1' }), 'deny');
  t.equal(decide([policy], { action: 's3:PutObject', resource: 'arn:aws:s3:::b/x' }), 'deny');
  t.equal(
    decide([policy], {
      action: 'ec2:DeleteVpc',
      resource: 'vpc',
      context: { 'aws:ResourceTag/stack': 'dev' },
    }),
    'allow',
  );
  t.equal(decide([policy], { action: 'ec2:DeleteVpc', resource: 'vpc' }), 'deny', 'untagged');
  t.throws(() => conditionsHold({ NumericEquals: { k: '1' } }, { k: '1' }), /does not know NumericEquals/);
  t.end();
});

// ---- trust: each role answers only its own GitHub subject -------------------------------------------------

const OIDC = 'token.actions.githubusercontent.com';
const subject = (suffix: string) => `repo:${SAMPLE.OIDC_REPO}:${suffix}`;
const canAssume = (trust: string, sub: string, aud = 'sts.amazonaws.com') =>
  decide([load(trust)], {
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: 'role',
    context: { [`${OIDC}:sub`]: sub, [`${OIDC}:aud`]: aud },
  }) === 'allow';

// GitHub's subjects: a job with an environment presents `repo:OWNER/REPO:environment:NAME`, a pull request
// job without one `repo:OWNER/REPO:pull_request`, a push job `repo:OWNER/REPO:ref:refs/heads/BRANCH`
// (https://docs.github.com/actions/reference/openid-connect-reference).
const SUBJECTS = {
  prodEnvironment: subject('environment:prod'),
  devEnvironment: subject('environment:dev'),
  previewEnvironment: subject('environment:preview'),
  pullRequest: subject('pull_request'),
  pushToDevelopment: subject('ref:refs/heads/development'),
  pushToMain: subject('ref:refs/heads/main'),
  otherRepository: 'repo:octo-org/fork:environment:prod',
};

void t.test('trust policies: one subject set per role, audience sts.amazonaws.com', (t) => {
  const allowed = (trust: string) =>
    Object.entries(SUBJECTS)
      .filter(([, sub]) => canAssume(trust, sub))
      .map(([k]) => k);
  t.same(allowed('trust-prod.json'), ['prodEnvironment'], 'prod: only the protected prod environment');
  t.same(allowed('trust-dev.json'), ['devEnvironment']);
  t.same(allowed('trust-preview.json'), ['previewEnvironment', 'pullRequest']);
  t.notOk(
    canAssume('trust-prod.json', SUBJECTS.prodEnvironment, 'https://github.com/octo-org'),
    'other audience',
  );
  for (const name of templateNames.filter((n) => n.startsWith('trust-'))) {
    t.equal(
      load(name).Statement[0]?.Principal?.Federated,
      `arn:aws:iam::${ARN.account}:oidc-provider/${OIDC}`,
    );
  }
  t.end();
});

// ---- permissions, evaluated by iam-simulate ------------------------------------------------------------------

// The roles as iam/fixtures/simulate.ts renders them (its sample account and region).
const { ACCOUNT, REGION } = SIMULATED;
const ROLE_POLICIES: Record<Role, RolePolicy[]> = {
  prod: rolePolicies('prod'),
  dev: rolePolicies('dev'),
  preview: rolePolicies('preview'),
};
const allowed = async (role: Role, action: string, resource: string, context = {}) =>
  (await simulate(ROLE_POLICIES[role], { action, resource, context })) === 'Allowed';
const PREVIEW_STACK = 'preview-feature-login-1a2b3c';
const stackOf: Record<Role, string> = { prod: 'prod', dev: 'dev', preview: PREVIEW_STACK };

/** The Pulumi state calls of one stack (the diy backend's layout); the resource graph has none of them. */
const stateCalls = (stack: string) => {
  const bucket = `arn:aws:s3:::${SIMULATED.SAMPLE.STATE_BUCKET}/.pulumi`;
  return {
    readState: ['s3:GetObject', `${bucket}/stacks/hapi-lambda/${stack}.json`],
    writeState: ['s3:PutObject', `${bucket}/stacks/hapi-lambda/${stack}.json`],
    writeHistory: ['s3:PutObject', `${bucket}/history/hapi-lambda/${stack}/${stack}-1.checkpoint.json`],
    takeLock: ['s3:PutObject', `${bucket}/locks/organization/hapi-lambda/${stack}/lock-1.json`],
    dropLock: ['s3:DeleteObject', `${bucket}/locks/organization/hapi-lambda/${stack}/lock-1.json`],
  } satisfies Record<string, [string, string]>;
};
const stateAllowed = async (role: Role, stack: string) => {
  const names: string[] = [];
  for (const [name, [action, resource]] of Object.entries(stateCalls(stack)))
    if (await allowed(role, action, resource)) names.push(name);
  return names;
};

void t.test('state: each role owns its stack state; previews read the others, write none', async (t) => {
  const all = Object.keys(stateCalls('x'));
  for (const role of ['prod', 'dev', 'preview'] as const)
    t.same(await stateAllowed(role, stackOf[role]), all, role);
  t.same(await stateAllowed('dev', 'prod'), []);
  t.same(await stateAllowed('prod', 'dev'), []);
  // `pulumi preview -s prod` reads prod's checkpoint (the diy backend takes no lock for a preview).
  t.same(await stateAllowed('preview', 'prod'), ['readState']);
  t.same(await stateAllowed('preview', 'dev'), ['readState']);
  t.equal(
    await simulate(ROLE_POLICIES.preview, {
      action: 's3:PutObject',
      resource: stateCalls('prod').writeState[1],
    }),
    'ExplicitlyDenied',
  );
});

const secretOf = (stack: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:hapi-lambda-${stack}-db-secret-abc1234-AbCdEf`;

void t.test("no role reads or writes another environment's secret", async (t) => {
  for (const role of ['prod', 'dev', 'preview'] as const) {
    t.ok(await allowed(role, 'secretsmanager:GetSecretValue', secretOf(stackOf[role])), `${role}: its own`);
    for (const stack of ['prod', 'dev', PREVIEW_STACK].filter((s) => s !== stackOf[role])) {
      if (role === 'preview' && stack === PREVIEW_STACK) continue;
      for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'])
        t.notOk(await allowed(role, action, secretOf(stack)), `${role}: ${action} on ${stack}`);
    }
  }
  t.equal(
    await simulate(ROLE_POLICIES.preview, {
      action: 'secretsmanager:GetSecretValue',
      resource: secretOf('prod'),
    }),
    'ExplicitlyDenied',
    'behind an explicit deny for pull requests',
  );
});

// ---- escalation: every role the deploy roles create stays inside the workload boundary ----------------------

const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/hapi-lambda-workload-boundary`;
const roleArn = (stack: string, name = 'api-role-abc1234') =>
  `arn:aws:iam::${ACCOUNT}:role/hapi-lambda-${stack}-${name}`;
const ADMIN = `arn:aws:iam::aws:policy/AdministratorAccess`;

void t.test('the boundary name is the one the program uses (one home: permissions-boundary.json)', (t) => {
  const { policyName } = JSON.parse(
    readFileSync(resolve(ROOT, 'infrastructure/permissions-boundary.json'), 'utf8'),
  ) as { policyName: string };
  t.equal(BOUNDARY_ARN, `arn:aws:iam::${ACCOUNT}:policy/${policyName}`);
  t.match(
    readFileSync(resolve(ROOT, 'infrastructure/components/service-function.ts'), 'utf8'),
    /permissionsBoundary: .*boundary\.policyName/,
  );
  t.end();
});

for (const role of ['dev', 'preview', 'prod'] as const) {
  void t.test(`${role} role: roles only with the boundary, and never out of it`, async (t) => {
    const stack = stackOf[role];
    const own = roleArn(stack);
    const tags = { 'aws:RequestTag/stack': stack, 'aws:TagKeys': ['project', 'stack', 'managed-by'] };
    const bounded = { 'iam:PermissionsBoundary': BOUNDARY_ARN };
    t.ok(await allowed(role, 'iam:CreateRole', own, { ...tags, ...bounded }), "control: the program's role");
    const refused: Record<string, [string, string, Record<string, unknown>]> = {
      'create without a boundary': ['iam:CreateRole', own, tags],
      'create with another boundary': ['iam:CreateRole', own, { ...tags, 'iam:PermissionsBoundary': ADMIN }],
      "create tagged as prod's": ['iam:CreateRole', own, { ...bounded, 'aws:RequestTag/stack': 'prod-x' }],
      'inline policy on an unbounded role': ['iam:PutRolePolicy', own, {}],
      'attach AdministratorAccess': ['iam:AttachRolePolicy', own, { ...bounded, 'iam:PolicyARN': ADMIN }],
      'remove the boundary': ['iam:DeleteRolePermissionsBoundary', own, bounded],
      'replace the boundary': ['iam:PutRolePermissionsBoundary', own, { 'iam:PermissionsBoundary': ADMIN }],
      'rewrite the boundary policy': ['iam:CreatePolicyVersion', BOUNDARY_ARN, {}],
      'pass a role without the stack tag': [
        'iam:PassRole',
        own,
        { 'iam:PassedToService': 'lambda.amazonaws.com' },
      ],
      'pass its role to EC2': [
        'iam:PassRole',
        own,
        { 'iam:PassedToService': 'ec2.amazonaws.com', 'aws:ResourceTag/stack': stack },
      ],
      'pass an admin role': [
        'iam:PassRole',
        `arn:aws:iam::${ACCOUNT}:role/admin`,
        { 'iam:PassedToService': 'lambda.amazonaws.com' },
      ],
      'assume a role it created': ['sts:AssumeRole', own, {}],
      "create prod's role": [
        'iam:CreateRole',
        roleArn(role === 'prod' ? 'dev' : 'prod'),
        { ...tags, ...bounded },
      ],
    };
    for (const [attack, [action, resource, context]] of Object.entries(refused))
      t.notOk(await allowed(role, action, resource, context), attack);
  });
}

const BOUNDARY = [SIMULATED.renderTemplate('workload-boundary.json')];
const EVERYTHING: RolePolicy = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'All', Effect: 'Allow', Action: '*', Resource: '*' }],
};
const asFunction = (stack: string, action: string, resource: string) =>
  simulate(
    [EVERYTHING],
    { action, resource, context: { 'aws:PrincipalTag/stack': stack } },
    {
      boundary: BOUNDARY,
      principal: roleArn(stack),
    },
  );

void t.test('a function role with an inline "*:*" is held to its own stack by the boundary', async (t) => {
  const logs = (stack: string) =>
    `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/hapi-lambda-${stack}-api:log-stream:x`;
  t.equal(await asFunction('dev', 'logs:PutLogEvents', logs('dev')), 'Allowed');
  t.equal(await asFunction('dev', 'secretsmanager:GetSecretValue', secretOf('dev')), 'Allowed');
  const refused: [string, string][] = [
    ['secretsmanager:GetSecretValue', secretOf('prod')],
    ['logs:PutLogEvents', logs('prod')],
    ['iam:CreateRole', roleArn('dev', 'x')],
    ['iam:PassRole', roleArn('dev', 'x')],
    ['lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:hapi-lambda-prod-api`],
    ['s3:GetObject', `arn:aws:s3:::${SIMULATED.SAMPLE.STATE_BUCKET}/.pulumi/stacks/hapi-lambda/prod.json`],
    ['rds:DeleteDBCluster', `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:hapi-lambda-prod-db-cluster-abc1234`],
  ];
  for (const [action, resource] of refused)
    t.not(await asFunction('dev', action, resource), 'Allowed', `${action} on ${resource}`);
});
