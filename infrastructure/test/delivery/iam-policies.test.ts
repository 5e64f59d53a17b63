// The IAM policies of the three GitHub Actions roles (.github/iam/): well-formed, scoped by the program's
// naming (`${project}-${stack}-…`) and tags, and — evaluated with IAM's rules (explicit Deny wins, then
// any Allow, otherwise denied) — a pull request or a push to development gets no credentials that change
// prod or read its database secret.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';

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
const OPERATORS = new Set(['StringEquals', 'StringLike']);

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
    'stack-resources.json',
    'stack-state.json',
    'trust-dev.json',
    'trust-preview.json',
    'trust-prod.json',
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

// ---- an evaluator with IAM's decision rules ----------------------------------------------------------

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

// ---- permissions: evaluated per role -------------------------------------------------------------------------

const ROLES = {
  prod: [load('stack-resources.json', 'prod'), load('stack-state.json', 'prod')],
  dev: [load('stack-resources.json', 'dev'), load('stack-state.json', 'dev')],
  preview: [
    load('stack-resources.json', 'preview-*'),
    load('stack-state.json', 'preview-*'),
    load('preview-read.json'),
    load('preview-state.json'),
  ],
};
type Role = keyof typeof ROLES;

/** What one stack's deploy does to its own resources, with the names the program gives them. */
function stackRequests(stack: string): Record<string, Request> {
  const prefix = `hapi-lambda-${stack}`;
  const { region, account, bucket } = ARN;
  return {
    updateFunction: {
      action: 'lambda:UpdateFunctionCode',
      resource: `arn:aws:lambda:${region}:${account}:function:${prefix}-api-fn-1a2b3c4`,
    },
    invokeMigrations: {
      action: 'lambda:InvokeFunction',
      resource: `arn:aws:lambda:${region}:${account}:function:${prefix}-api-fn-1a2b3c4:7`,
    },
    pushImage: { action: 'ecr:PutImage', resource: `arn:aws:ecr:${region}:${account}:repository/${prefix}` },
    pullCache: {
      action: 'ecr:BatchGetImage',
      resource: `arn:aws:ecr:${region}:${account}:repository/${prefix}`,
    },
    readSecret: {
      action: 'secretsmanager:GetSecretValue',
      resource: `arn:aws:secretsmanager:${region}:${account}:secret:${prefix}-db-secret-abc1234-XyZ12`,
    },
    writeSecret: {
      action: 'secretsmanager:PutSecretValue',
      resource: `arn:aws:secretsmanager:${region}:${account}:secret:${prefix}-db-secret-abc1234-XyZ12`,
    },
    changeRolePolicy: {
      action: 'iam:PutRolePolicy',
      resource: `arn:aws:iam::${account}:role/${prefix}-api-role-1a2b3c4`,
    },
    deleteCluster: {
      action: 'rds:DeleteDBCluster',
      resource: `arn:aws:rds:${region}:${account}:cluster:${prefix}-db-cluster-1a2b3c4`,
    },
    deleteSecurityGroup: {
      action: 'ec2:DeleteSecurityGroup',
      resource: `arn:aws:ec2:${region}:${account}:security-group/sg-1`,
      context: { 'aws:ResourceTag/stack': stack },
    },
    readState: {
      action: 's3:GetObject',
      resource: `arn:aws:s3:::${bucket}/.pulumi/stacks/hapi-lambda/${stack}.json`,
    },
    writeState: {
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${bucket}/.pulumi/stacks/hapi-lambda/${stack}.json`,
    },
    takeLock: {
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${bucket}/.pulumi/locks/organization/hapi-lambda/${stack}/lock-1.json`,
    },
  };
}

const allowedFor = (role: Role, stack: string) =>
  Object.entries(stackRequests(stack))
    .filter(([, request]) => decide(ROLES[role], request) === 'allow')
    .map(([k]) => k);
const EVERYTHING = Object.keys(stackRequests('x'));
const PREVIEW_STACK = 'preview-feature-login-1a2b3c';

void t.test('each deploy role manages its own stack completely', (t) => {
  t.same(allowedFor('prod', 'prod'), EVERYTHING);
  t.same(allowedFor('dev', 'dev'), EVERYTHING);
  t.same(allowedFor('preview', PREVIEW_STACK), EVERYTHING);
  t.end();
});

void t.test('the dev role (a push to development) can do nothing to prod, and prod nothing to dev', (t) => {
  t.same(allowedFor('dev', 'prod'), []);
  t.same(allowedFor('prod', 'dev'), []);
  t.same(allowedFor('prod', PREVIEW_STACK), []);
  t.end();
});

void t.test(
  'the preview role (pull requests) reads what a preview of prod needs and changes nothing of it',
  (t) => {
    // `pulumi preview -s prod` reads prod's checkpoint (the diy backend takes no lock for a preview) and the
    // build reads prod's registry cache; nothing else.
    t.same(allowedFor('preview', 'prod'), ['pullCache', 'readState']);
    t.same(allowedFor('preview', 'dev'), ['pullCache', 'readState']);
    t.end();
  },
);

void t.test("prod's secret, images and state are behind explicit denies in the preview role", (t) => {
  const prod = stackRequests('prod');
  const denied = (request: Request | undefined) =>
    ROLES.preview
      .flatMap((p) => p.Statement)
      .some((s) => s.Effect === 'Deny' && request !== undefined && matches(s, request));
  for (const key of ['readSecret', 'writeSecret', 'pushImage', 'writeState', 'takeLock'])
    t.ok(denied(prod[key]), `${key} is explicitly denied`);
  t.end();
});

void t.test('no deploy role may assume another role (a same-account trust naming it would suffice)', (t) => {
  for (const role of Object.keys(ROLES) as Role[]) {
    t.equal(
      decide(ROLES[role], {
        action: 'sts:AssumeRole',
        resource: `arn:aws:iam::${ARN.account}:role/hapi-lambda-${role}-x`,
      }),
      'deny',
      role,
    );
  }
  t.equal(
    decide(ROLES.prod, {
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${ARN.account}:role/hapi-lambda-prod-api-role-1`,
      context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    }),
    'deny',
    'function roles are passed to Lambda only',
  );
  t.end();
});
