// How the V8 startup snapshot is built and started, in the bundle's folder; docker/Dockerfile spells the
// same commands (docs/container.md#cold-start-the-startup-snapshot).

/** `node <these>`: writes snapshot.blob from snapshot.cjs. */
export const SNAPSHOT_BUILD_ARGS = [
  '--snapshot-blob',
  'snapshot.blob',
  '--build-snapshot-config',
  'snapshot.json',
] as const;

/** `node <these> [command]`: starts the service from the blob (command `migrate` as for main.mjs). */
export const SNAPSHOT_RUN_ARGS = ['--snapshot-blob', 'snapshot.blob'] as const;

/** The build configuration snapshot.json holds (the builder is relative to the working directory). */
export const SNAPSHOT_CONFIG = { builder: 'snapshot.cjs', withoutCodeCache: true } as const;
