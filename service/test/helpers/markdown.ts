// Reads the repository's Markdown the way GitHub renders it (GFM, parsed by marked), for the tests that
// keep the docs in step with the code and with themselves.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import { Lexer, type Token, type Tokens } from 'marked';

/** The repository root, where README.md and docs/ live. */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function readMarkdown(path: string): Token[] {
  return Lexer.lex(readFileSync(path, 'utf8'));
}

/** Every token of the document, depth first: links sit inside paragraphs, list items and table cells. */
export function* walk(tokens: readonly Token[]): Generator<Token> {
  for (const token of tokens) {
    yield token;
    if (token.type === 'table') {
      const table = token as Tokens.Table;
      for (const cell of [...table.header, ...table.rows.flat()]) yield* walk(cell.tokens);
    } else if (token.type === 'list') {
      yield* walk((token as Tokens.List).items);
    } else if ('tokens' in token && Array.isArray(token.tokens)) {
      yield* walk(token.tokens);
    }
  }
}

/** The text a reader sees, markup removed (`code` → code, [a](b) → a), as GitHub slugs it. */
function plainText(tokens: readonly Token[]): string {
  return tokens
    .map((token) => {
      if ('tokens' in token && Array.isArray(token.tokens)) return plainText(token.tokens);
      return 'text' in token && typeof token.text === 'string' ? token.text : '';
    })
    .join('');
}

/** The anchors GitHub gives the document's headings (github-slugger, duplicates numbered as GitHub does). */
export function headingAnchors(tokens: readonly Token[]): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  for (const token of walk(tokens)) {
    if (token.type === 'heading') anchors.add(slugger.slug(plainText((token as Tokens.Heading).tokens)));
  }
  return anchors;
}

/** The rows of the first table whose first column is headed `firstColumn`, each keyed by column heading. */
export function tableRows(tokens: readonly Token[], firstColumn: string): Record<string, string>[] {
  for (const token of walk(tokens)) {
    if (token.type !== 'table') continue;
    const table = token as Tokens.Table;
    const columns = table.header.map((cell) => plainText(cell.tokens));
    if (columns[0] !== firstColumn) continue;
    return table.rows.map((row) =>
      Object.fromEntries(row.map((cell, index) => [columns[index] ?? '', plainText(cell.tokens)])),
    );
  }
  throw new Error(`no table whose first column is "${firstColumn}"`);
}
