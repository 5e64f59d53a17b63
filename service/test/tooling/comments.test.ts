// The comment rules in CONTRIBUTING.md that a machine can check, over every tracked source file: a file
// header of at most two lines, and no pointers into an issue tracker a reader cannot open.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import t from 'tap';
import { repositoryRoot } from '../helpers/markdown.ts';

const tracked = execFileSync('git', ['ls-files'], { cwd: repositoryRoot, encoding: 'utf8' })
  .split('\n')
  // A tracked file deleted from the work tree (not yet `git rm`) has nothing to check.
  .filter((path) => path !== '' && existsSync(`${repositoryRoot}${path}`));
const isSource = (path: string) =>
  /\.(?:ts|mts|cts|mjs|cjs|js|sh|ya?ml)$/.test(path) || basename(path).startsWith('Dockerfile');
const hashComments = (path: string) =>
  /\.(?:sh|ya?ml)$/.test(path) || basename(path).startsWith('Dockerfile');

interface Scan {
  header: number;
  comments: { line: number; text: string }[];
}

function scan(path: string): Scan {
  const lines = readFileSync(`${repositoryRoot}${path}`, 'utf8').split('\n');
  const comments: Scan['comments'] = [];
  let header = 0;
  let inHeader = true;
  let inBlock = false;
  let inDirective = false;
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (index === 0 && line.startsWith('#!')) return;
    // Dockerfile parser directives are not comments.
    if (hashComments(path) && /^#\s*(?:syntax|escape|check)=/.test(line)) return;
    if (line === '') {
      if (header > 0) inHeader = false;
      return;
    }
    let whole = false;
    if (hashComments(path)) {
      if (line.startsWith('#')) whole = true;
      else {
        const trailing = /\s#\s.*$/.exec(line);
        if (trailing) comments.push({ line: index + 1, text: trailing[0] });
      }
    } else if (inBlock) {
      whole = true;
      inBlock = !line.includes('*/');
    } else if (line.startsWith('//')) whole = true;
    else if (line.startsWith('/*')) {
      whole = true;
      inBlock = !line.includes('*/');
    } else {
      const trailing = /\s\/\/\s.*$/.exec(line);
      if (trailing) comments.push({ line: index + 1, text: trailing[0] });
    }
    // A lint directive (`/* eslint-disable … */`) is not prose and does not count towards the header.
    const directive = inDirective || /^(?:\/\/|\/\*)\s*eslint-/.test(line);
    inDirective = directive && inBlock;
    if (whole) {
      comments.push({ line: index + 1, text: line });
      if (inHeader && !directive) header += 1;
    } else inHeader = false;
  });
  return { header, comments };
}

// An issue number, a bare hash-number (an upstream owner/repo#830 names where to look), "the <Name> issue", or
// the word for a tracker item.
const ticket = /\bissues?\s+#?\d+|(?<![\w/.-])#\d+\b|\bthe\s+[A-Z][\w-]*\s+issue\b|\btickets?\b/i;

const sources = tracked.filter(isSource);
t.ok(sources.length > 100, `${String(sources.length)} tracked source files`);

t.test('a file header is at most two lines', async (t) => {
  const long = sources.flatMap((path) => {
    const { header } = scan(path);
    return header > 2 ? [`${path}: ${String(header)} lines`] : [];
  });
  t.same(long, [], 'long rationale goes to docs/, the header says what the file is for');
});

t.test('no comment points at a ticket', async (t) => {
  const found = sources.flatMap((path) =>
    scan(path).comments.flatMap(({ line, text }) =>
      ticket.test(text) ? [`${path}:${String(line)}: ${text}`] : [],
    ),
  );
  t.same(found, [], 'say the reason itself; a reader cannot open our tickets');
});

t.test('no document points at a ticket', async (t) => {
  // CONTRIBUTING.md states the rule, with examples.
  const found = tracked
    .filter((path) => path.endsWith('.md') && path !== 'CONTRIBUTING.md')
    .flatMap((path) =>
      readFileSync(`${repositoryRoot}${path}`, 'utf8')
        .split('\n')
        .flatMap((text, index) =>
          ticket.test(text) ? [`${path}:${String(index + 1)}: ${text.trim()}`] : [],
        ),
    );
  t.same(found, [], 'say the reason itself; a reader cannot open our tickets');
});
