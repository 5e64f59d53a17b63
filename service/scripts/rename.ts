// `npm run rename -- <new-name>`: renames the project in every tracked file, before the first deploy.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
// A preview stack's Aurora reader identifier then reaches AWS's 63 characters exactly.
const MAX_LENGTH = 14;
const VALID = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

function currentName(): string {
  const match = /^name:\s*(\S+)\s*$/m.exec(readFileSync(path.join(root, 'Pulumi.yaml'), 'utf8'));
  if (match?.[1] === undefined) throw new Error('Pulumi.yaml has no `name:` line');
  return match[1];
}

function problem(name: string | undefined, current: string): string | undefined {
  if (name === undefined) return 'usage: npm run rename -- <new-name>   (e.g. npm run rename -- orders-api)';
  if (!VALID.test(name))
    return `"${name}" is not a valid name: lower-case letters, digits and single dashes, starting with a letter`;
  if (name.length < 3 || name.length > MAX_LENGTH)
    return `"${name}" has ${name.length} characters: use 3 to ${MAX_LENGTH} (AWS name limits)`;
  if (name === current) return `the project is already called "${name}"`;
  return undefined;
}

const current = currentName();
const name = process.argv[2];
const error = problem(name, current);
if (error !== undefined || name === undefined) {
  process.stderr.write(`${error}\n`);
  process.exit(1);
}

const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter(Boolean);
// The package name `<old>-template` becomes the plain new name; everything else swaps the name itself.
const pattern = new RegExp(`${current.replaceAll('-', '\\-')}(?:-template)?`, 'g');
let changed = 0;
for (const file of files) {
  const full = path.join(root, file);
  let buffer: Buffer;
  try {
    buffer = readFileSync(full);
  } catch {
    continue; // Deleted in the work tree.
  }
  if (buffer.includes(0)) continue; // Binary.
  const text = buffer.toString('utf8');
  const renamed = text.replace(pattern, name);
  if (renamed !== text) {
    writeFileSync(full, renamed);
    changed += 1;
  }
}
console.log(`Renamed "${current}" to "${name}" in ${changed} files. Review with git diff, then commit.`);
