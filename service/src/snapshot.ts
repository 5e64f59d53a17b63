// Entry of the V8 startup snapshot the image starts from (bundled as dist/snapshot.cjs); how and why:
// docs/container.md#cold-start-the-startup-snapshot. main.ts (hapi, node:http) loads after deserialising.
import { startupSnapshot } from 'node:v8';

startupSnapshot.setDeserializeMainFunction(() => {
  // A deserialised process has no script name: argv is [node, ...arguments].
  void import('./main.ts').then(({ runService }) => {
    runService(process.argv[1]);
  });
});
