// Entry point of the bundle: `node main.mjs` serves, `node main.mjs migrate` applies pending migrations.
import { runService } from './main.ts';

runService(process.argv[2]);
