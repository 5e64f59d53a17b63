// Where the image test and the bench keep what they build (adapter, emulator, base images) between runs.
import { homedir } from 'node:os';
import path from 'node:path';

export const cacheDir = path.join(
  process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'),
  'hapi-lambda',
  'image-test',
);
