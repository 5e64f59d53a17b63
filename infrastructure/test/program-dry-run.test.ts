// `pulumi preview` of prod, as a pull request runs it: the program must not write to prod's registry.
// docker-build never pushes during a preview but still exports `cacheTo` when it builds (provider/image.go),
// so the image is not built on preview at all (buildOnPreview: false, asserted in assertCommon).
import t from 'tap';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { assertCommon, PROD_EXPECTED } from './fixtures/assertions.ts';
import { runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, dryRun } = SCENARIOS['prod-dry-run'];
const run = await runProgram(stack, config, [], { dryRun });

await assertCommon(t, run, { ...PROD_EXPECTED, secrets: [] });

assertEngineGraph(t, run, 'prod-dry-run');
