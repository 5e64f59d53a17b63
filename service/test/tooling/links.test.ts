// Every relative link of the repository's Markdown (README.md, docs/, every folder's README) resolves to a
// file, and every #anchor to a heading of its target, slugged as GitHub slugs headings (github-slugger).
import { existsSync, globSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import t from 'tap';
import { type Tokens } from 'marked';
import { headingAnchors, readMarkdown, repositoryRoot, walk } from '../helpers/markdown.ts';

const skipped = new Set(['node_modules', 'dist', 'coverage', '.tap', '.data', '.bench', '.git']);
const documents = globSync(['*.md', 'docs/**/*.md', '**/README.md', '.github/**/README.md'], {
  cwd: repositoryRoot,
  exclude: (path) => path.split(/[\\/]/).some((part) => skipped.has(part)),
}).sort();

/** Links with a scheme (https:, mailto:) leave the repository: not checked here. */
const external = /^[a-z][a-z0-9+.-]*:/i;

const anchorsOf = new Map<string, Set<string>>();
function anchors(file: string): Set<string> {
  let found = anchorsOf.get(file);
  if (!found) anchorsOf.set(file, (found = headingAnchors(readMarkdown(file))));
  return found;
}

t.ok(documents.includes('README.md') && documents.includes('docs/api.md'), `checks ${documents.join(', ')}`);

for (const document of documents) {
  t.test(document, async (t) => {
    const source = resolve(repositoryRoot, document);
    const links = [...walk(readMarkdown(source))].filter((token) => token.type === 'link') as Tokens.Link[];
    for (const { href } of links) {
      if (external.test(href)) continue;
      const [path = '', anchor] = href.split('#');
      const target = path === '' ? source : resolve(dirname(source), decodeURI(path));
      if (!t.ok(existsSync(target), `${href}: ${relative(repositoryRoot, target)} exists`)) continue;
      if (anchor !== undefined && target.endsWith('.md')) {
        t.ok(anchors(target).has(decodeURIComponent(anchor)), `${href}: heading #${anchor}`);
      }
    }
  });
}
