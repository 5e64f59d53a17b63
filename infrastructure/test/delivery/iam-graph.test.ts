// IAM derived from the resource graph: every resource each scenario registers maps (provider-calls.ts) to
// the calls its provider makes; each call must be allowed to its own stack's deploy role and refused to
// every other environment's role, apart from the few calls tags and names cannot separate (SHARED).
import { isWildcardOnlyAction } from '@cloud-copilot/iam-simulate';
import t from 'tap';
import { graphRequests, recordScenarios, type GraphRequest } from './iam/fixtures/graph-calls.ts';
import { PROVIDER_CALLS } from './iam/fixtures/provider-calls.ts';
import { SCENARIOS } from './iam/fixtures/record-program.ts';
import { decide, roleForStack, rolePolicies, type Role } from './iam/fixtures/simulate.ts';

const graphs = await recordScenarios(Object.keys(SCENARIOS));
const label = (r: GraphRequest) => `${r.type} ${r.phase}: ${r.action} on ${r.resource}`;

for (const [scenario, graph] of Object.entries(graphs)) {
  const role = roleForStack(graph.stack);
  void t.test(`${scenario}: every call of every resource is allowed to the ${role} role`, async (t) => {
    const { requests, unmapped } = graphRequests(graph);
    t.same(unmapped, [], 'resource types with no row in provider-calls.ts');
    t.ok(requests.length > 100, `${requests.length} calls`);
    const policies = rolePolicies(role);
    const refused: string[] = [];
    for (const request of requests) {
      const decision = await decide(policies, request);
      if (decision !== 'Allowed') refused.push(`${label(request)}: ${decision}`);
    }
    t.same(refused, [], 'calls the role refuses');
  });
}

void t.test('Resource "*" only for actions AWS defines without a resource type', async (t) => {
  const requests = Object.values(graphs).flatMap((graph) => graphRequests(graph).requests);
  const wrong = new Set<string>();
  for (const request of requests.filter((r) => r.resource === '*')) {
    const [service = '', action = ''] = request.action.split(':');
    if (!(await isWildcardOnlyAction(service, action))) wrong.add(`${request.type}: ${request.action}`);
  }
  t.same([...wrong], [], 'these need the real resource ARN in provider-calls.ts');
});

/**
 * What the account's other environments can still do to a stack (docs/delivery.md lists the same): each
 * entry matches `<action> <resource>` of a call the graph makes, with the reason IAM cannot separate it.
 */
const SHARED: { pattern: RegExp; why: string }[] = [
  {
    pattern: /^\S+ \*$/,
    why: 'actions without resource-level permissions (Describe*, log delivery, ECR login)',
  },
  {
    pattern: /^apigateway:\w+ arn:aws:apigateway:[^:]+::\/apis\/[^/]+\/(integrations|routes)(\/|$)/,
    why: 'HTTP API integrations and routes carry no tags and inherit none',
  },
  { pattern: /^(cloudwatch:DescribeAlarms|ec2:Describe\w+) /, why: 'reading alarm and network descriptions' },
  {
    pattern: /^ec2:(Detach|Delete)NetworkInterface .*:network-interface\//,
    why: "Lambda's network interfaces carry no tags; the VPC id is not known when the role is created",
  },
  {
    pattern: /^iam:CreateServiceLinkedRole .*:role\/aws-service-role\//,
    why: "AWS's service-linked roles, one per account",
  },
  {
    pattern: /^rds:CreateDB(Cluster|Instance) .*:(cluster-pg|pg|og):default[.:]aurora-postgresql/,
    why: "AWS's default parameter and option groups (the cluster itself stays refused)",
  },
];
const PREVIEW_READS_CACHE =
  /^ecr:(BatchGetImage|GetDownloadUrlForLayer|BatchCheckLayerAvailability|DescribeRepositories) .*:repository\/hapi-lambda-(prod|dev)$/;

const OTHER_ROLES: Record<Role, Role[]> = {
  prod: ['dev', 'preview'],
  dev: ['prod', 'preview'],
  preview: ['prod', 'dev'],
};
for (const [scenario, graph] of Object.entries(graphs)) {
  for (const other of OTHER_ROLES[roleForStack(graph.stack)]) {
    void t.test(`${scenario}: the ${other} role is refused every call but the shared ones`, async (t) => {
      const policies = rolePolicies(other);
      const allowed = new Set<string>();
      for (const request of graphRequests(graph).requests) {
        if ((await decide(policies, request)) === 'Allowed')
          allowed.add(`${request.action} ${request.resource}`);
      }
      // A preview's build reads prod's cache: that call is on the prod role's own repository.
      const ownRepository = new RegExp(`:repository/hapi-lambda-${other}$`);
      const unexpected = [...allowed].filter(
        (call) =>
          !SHARED.some(({ pattern }) => pattern.test(call)) &&
          !(other === 'preview' && PREVIEW_READS_CACHE.test(call)) &&
          !ownRepository.test(call),
      );
      t.same(unexpected, [], `calls the ${other} role can make on ${graph.stack}`);
    });
  }
}

void t.test('every row names its source and is used by some scenario', (t) => {
  const used = new Set(Object.values(graphs).flatMap((graph) => graph.resources.map((r) => r.type)));
  for (const [type, row] of Object.entries(PROVIDER_CALLS)) {
    t.ok(row.source.length > 10, `${type} has a source`);
    t.ok(used.has(type), `${type} is registered by some scenario`);
  }
  t.end();
});
