// IAM derived from the resource graph: every resource each scenario registers maps (provider-calls.ts) to
// the calls its provider makes, and each call is evaluated against the deploy role of its stack.
import t from 'tap';
import { graphRequests, recordScenarios, type GraphRequest } from './iam/fixtures/graph-calls.ts';
import { PROVIDER_CALLS } from './iam/fixtures/provider-calls.ts';
import { SCENARIOS } from './iam/fixtures/record-program.ts';
import { decide, roleForStack, rolePolicies } from './iam/fixtures/simulate.ts';

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

void t.test('every row names its source and is used by some scenario', (t) => {
  const used = new Set(Object.values(graphs).flatMap((graph) => graph.resources.map((r) => r.type)));
  for (const [type, row] of Object.entries(PROVIDER_CALLS)) {
    t.ok(row.source.length > 10, `${type} has a source`);
    t.ok(used.has(type), `${type} is registered by some scenario`);
  }
  t.end();
});
