// The entry Pulumi runs, started by an old Node the way Pulumi would if that Node came first on PATH:
// it must say what to do, not fail with ERR_UNKNOWN_FILE_EXTENSION on index.ts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
// Debian's system Node (20 on these machines) stands in for an old `node` on PATH.
const OLD_NODE = '/usr/bin/node';
const oldVersion = existsSync(OLD_NODE)
  ? (await run(OLD_NODE, ['-p', 'process.versions.node'])).stdout.trim()
  : undefined;
const tooOld = oldVersion !== undefined && Number(oldVersion.split('.')[0]) < 22;

t.test(
  'an old Node gets a message that says how to run Pulumi',
  { skip: tooOld ? false : 'no Node < 22 here' },
  async (t) => {
    const failure = await run(OLD_NODE, ['--input-type=module', '-e', "await import('./entry.js')"], {
      cwd: new URL('..', import.meta.url),
    }).then(
      () => undefined,
      (error: unknown) => error as { stderr: string },
    );
    t.ok(failure, 'the program does not start');
    t.match(failure?.stderr, `Pulumi started this program with Node ${String(oldVersion)}`);
    t.match(failure?.stderr, 'npm run pulumi -- preview');
    t.notMatch(failure?.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
  },
);
