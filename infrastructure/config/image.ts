// The image settings, shaped as ServiceImage's args.
import type { Platform } from '../platforms.ts';
import { ConfigError, type Settings } from './settings.ts';

// The only tag that moves: no release tag may start with it.
export const CACHE_TAG = 'cache';

const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface TagSources {
  env: Readonly<Record<string, string | undefined>>;
  // Undefined when git is unavailable.
  gitHead: () => { sha: string; dirty: boolean } | undefined;
  now: () => Date;
}

export interface ImageSettings {
  // Else Lambda fails with `exec format error`.
  platform: Platform;
  tag: string;
  untaggedExpiryDays: number;
  // Read, never written: prod's, for previews.
  sharedCacheRepository?: string;
}

export function readImageSettings(
  settings: Settings,
  sources: TagSources,
  derived: Pick<ImageSettings, 'platform' | 'sharedCacheRepository'>,
): ImageSettings {
  return {
    ...derived,
    tag: resolveImageTag(settings.raw('imageTag'), settings.key('imageTag'), sources),
    untaggedExpiryDays: settings.num('imageUntaggedExpiryDays', 1, 3650),
  };
}

// Never moved, so the lifecycle policy cannot expire a digest a function uses.
// Order: `imageTag` config, GITHUB_SHA, the local git commit, a timestamp.
export function resolveImageTag(
  configured: string | undefined,
  fullKey: string,
  sources: TagSources,
): string {
  if (configured !== undefined) {
    if (!TAG_PATTERN.test(configured) || configured.startsWith(CACHE_TAG)) {
      throw new ConfigError(fullKey, `"${configured}" is not a valid image tag (and "cache…" is reserved)`);
    }
    return configured;
  }
  const ciSha = sources.env.GITHUB_SHA?.trim();
  if (ciSha !== undefined && /^[0-9a-f]{40}$/.test(ciSha)) return `git-${ciSha.slice(0, 12)}`;
  const stamp = sources
    .now()
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  const head = sources.gitHead();
  if (head === undefined) return `local-${stamp}`;
  // A dirty tree must not claim the commit's tag.
  return head.dirty ? `git-${head.sha.slice(0, 12)}-dirty-${stamp}` : `git-${head.sha.slice(0, 12)}`;
}
