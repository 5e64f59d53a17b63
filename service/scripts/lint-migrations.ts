// `npm run lint:migrations` (part of `npm run lint`): refuses migrations the previous release cannot survive
// unless marked as contract steps (docs/migrations.md). Needs no database: nothing connects.
import { migrations } from '../src/db/migrations/index.ts';
import { formatFinding, lintMigrations, offlineOrm } from '../tools/migration-lint.ts';

const orm = await offlineOrm();
try {
  const result = await lintMigrations(orm, migrations);
  for (const finding of result.allowed) console.log(`allowed, contract step: ${formatFinding(finding)}`);
  for (const finding of result.problems) console.error(formatFinding(finding));
  const summary = `${result.migrations} migration(s), ${result.statements} statement(s), ${result.allowed.length} contract step statement(s), ${result.problems.length} problem(s)`;
  if (result.problems.length > 0) {
    console.error(
      `${summary}. Split the change into expand and contract steps, or mark a contract step: docs/migrations.md`,
    );
    process.exitCode = 1;
  } else {
    console.log(summary);
  }
} finally {
  await orm.close();
}
