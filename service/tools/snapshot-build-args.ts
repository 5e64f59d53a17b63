// How the V8 startup snapshot is built and started, run in the bundle's folder (dist/, the image's /app).
// docker/Dockerfile spells the same commands (test/container/dockerfile.test.ts holds it to these);
// the bench and test/bundle-snapshot.test.ts use them from here.
//
// The blob loads only into the node binary that built it: Node compares its version, architecture and
// platform, and refuses the blob with "Failed to load the startup snapshot because it was built with …"
// (exit code 14) otherwise. snapshot.json (written by scripts/build.ts) builds it without V8's code
// cache, because then Node skips one more check: the V8 cache tag, which folds in the CPU features of
// the machine that built it, and Lambda's CPUs need not be the build host's (node_snapshotable.cc,
// SnapshotData::Check). That is also the faster blob here (docs/performance.md).

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
