// How the V8 startup snapshot is built and started; docker/Dockerfile spells the same commands.
// docs/container.md#cold-start-the-startup-snapshot

export const SNAPSHOT_BUILD_ARGS = [
  '--snapshot-blob',
  'snapshot.blob',
  '--build-snapshot-config',
  'snapshot.json',
] as const;

export const SNAPSHOT_RUN_ARGS = ['--snapshot-blob', 'snapshot.blob'] as const;

// The builder path is relative to the working directory.
export const SNAPSHOT_CONFIG = { builder: 'snapshot.cjs', withoutCodeCache: true } as const;
