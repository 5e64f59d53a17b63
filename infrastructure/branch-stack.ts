// Maps a git branch to the Pulumi stack it deploys to. Used by the Pulumi program and by the workflows
// (`node infrastructure/branch-stack.ts <branch>`), so the rule lives in exactly one place.
import { createHash } from 'node:crypto';

/** Long-lived branches and the stacks they own. */
export const BRANCH_STACKS: Readonly<Record<string, string>> = Object.freeze({
  main: 'prod',
  development: 'dev',
});

const PREVIEW_PREFIX = 'preview-';
/** Keeps `${project}-${stack}-…` resource names under AWS's 64-character limits. */
const MAX_PREVIEW_SLUG = 20;

/** `main` → `prod`, `development` → `dev`, anything else → a sanitised, bounded `preview-…` name. */
export function stackForBranch(ref: string): string {
  const branch = ref.trim().replace(/^refs\/heads\//, '');
  if (branch === '') throw new Error('stackForBranch: branch name is empty');
  const known = BRANCH_STACKS[branch];
  if (known !== undefined) return known;

  const slug = branch
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const hash = createHash('sha256').update(branch).digest('hex').slice(0, 6);
  if (slug === '') return `${PREVIEW_PREFIX}${hash}`;
  if (slug.length <= MAX_PREVIEW_SLUG) return `${PREVIEW_PREFIX}${slug}`;
  // Truncated names could collide, so a hash of the full branch name keeps them apart.
  return `${PREVIEW_PREFIX}${slug.slice(0, MAX_PREVIEW_SLUG - 7).replace(/-+$/, '')}-${hash}`;
}

/** Long-lived stacks are deployed by pushes; preview stacks exist only while their pull request is open. */
export function isPreviewStack(stack: string): boolean {
  return stack.startsWith(PREVIEW_PREFIX);
}

if (import.meta.main) {
  const branch = process.argv[2] ?? process.env.GITHUB_REF_NAME ?? '';
  process.stdout.write(`${stackForBranch(branch)}\n`);
}
