// `pulumi preview` of prod, as a pull request runs it, must not write to prod's registry: docker-build
// still exports `cacheTo` on preview builds, so the image is not built on preview at all.
import t from 'tap';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { assertCommon, PROD_EXPECTED } from './fixtures/assertions.ts';
import { runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, dryRun } = SCENARIOS['prod-dry-run'];
const run = await runProgram(stack, config, [], { dryRun });

await assertCommon(t, run, { ...PROD_EXPECTED, secrets: [] });

assertEngineGraph(t, run, 'prod-dry-run');
