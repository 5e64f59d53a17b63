// The README stays an entry point (at most 200 lines, none over 200 characters); what grows belongs in
// docs/.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { repositoryRoot } from '../helpers/markdown.ts';

const lines = readFileSync(`${repositoryRoot}README.md`, 'utf8').trimEnd().split('\n');

t.ok(lines.length <= 200, `README.md has ${String(lines.length)} lines`);
t.same(
  lines.flatMap((line, index) =>
    line.length > 200 ? [`line ${String(index + 1)}: ${String(line.length)}`] : [],
  ),
  [],
  'no README line is over 200 characters',
);
