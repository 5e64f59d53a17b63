// `npm run docs:errors`: rewrites the error table of docs/api.md from the error registry.
import { writeFile } from 'node:fs/promises';
import { API_DOC, withErrorTable } from '../tools/error-table.ts';

await writeFile(API_DOC, await withErrorTable());
console.log('Wrote the error table of docs/api.md');
