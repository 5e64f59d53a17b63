// Entry of the V8 startup snapshot that the image starts from: scripts/build.ts bundles it as CommonJS
// (dist/snapshot.cjs), docker/Dockerfile runs it once with `node --build-snapshot` and starts the
// container with `node --snapshot-blob`. At snapshot time the bundle has already evaluated every module
// that never loads node:http (build.ts imports them ahead of this file: joi and the config schema,
// hapi's validator and route schemas, hoek, boom, pino, most of the service's own modules), so a cold
// start deserialises them instead of parsing and running them. Node 24 aborts a snapshot once node:http is
// loaded, so hapi's core and everything that needs http run here, when main.ts is imported: esbuild turns
// that import into a lazy initialiser inside the same file.
import { startupSnapshot } from 'node:v8';

startupSnapshot.setDeserializeMainFunction(() => {
  // A deserialised process has no script name: argv is [node, ...arguments].
  void import('./main.ts').then(({ runService }) => {
    runService(process.argv[1]);
  });
});
