// `pulumi preview` of prod, as a pull request runs it: the program must not write to prod's registry.
// docker-build never pushes during a preview but still exports `cacheTo` (provider/image.go), so the
// program itself leaves the cache export out when pulumi.runtime.isDryRun() is true.
import t from 'tap';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { assertCommon, PROD_EXPECTED } from './fixtures/assertions.ts';
import { GENERATED_PASSWORD, runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, dryRun } = SCENARIOS['prod-dry-run'];
const run = await runProgram(stack, config, [], { dryRun });

await assertCommon(t, run, { ...PROD_EXPECTED, exportsCache: false, secrets: [GENERATED_PASSWORD] });

assertEngineGraph(t, run, 'prod-dry-run');
