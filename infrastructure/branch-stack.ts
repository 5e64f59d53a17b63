// Git branch → Pulumi stack, for the program and the workflows: the rule lives in one place.
import { createHash } from 'node:crypto';

export const BRANCH_STACKS = Object.freeze({ main: 'prod', development: 'dev' } as const);

const PREVIEW_PREFIX = 'preview-';
// Slug + `-` + hash; test/program-names.test.ts checks physical names against it.
const MAX_PREVIEW_NAME = 20;
const HASH_LENGTH = 6;

// The hash keeps `feature/login` and `feature-login` apart: they share one slug.
export function stackForBranch(ref: string): string {
  const branch = ref.trim().replace(/^refs\/heads\//, '');
  if (branch === '') throw new Error('stackForBranch: branch name is empty');
  const known = (BRANCH_STACKS as Readonly<Record<string, string | undefined>>)[branch];
  if (known !== undefined) return known;

  const hash = createHash('sha256').update(branch).digest('hex').slice(0, HASH_LENGTH);
  const slug = branch
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_PREVIEW_NAME - HASH_LENGTH - 1)
    .replace(/^-+|-+$/g, '');
  return `${PREVIEW_PREFIX}${slug === '' ? '' : `${slug}-`}${hash}`;
}

// Preview stacks live only while their pull request is open.
export function isPreviewStack(stack: string): boolean {
  return stack.startsWith(PREVIEW_PREFIX);
}

if (import.meta.main) {
  const branch = process.argv[2] ?? process.env.GITHUB_REF_NAME ?? '';
  process.stdout.write(`${stackForBranch(branch)}\n`);
}
