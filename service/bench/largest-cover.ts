// A book with the largest cover the service accepts, stored over HTTP: what bench/covers.ts and the overload
// test then download in parallel.
import { randomBytes } from 'node:crypto';
import { MAX_COVER_BYTES } from '../src/modules/books/cover-image.ts';

/** Creates a book (`isbn` unused so far) and PUTs a PNG of MAX_COVER_BYTES; `status` is the PUT's answer. */
export async function storeLargestCover(
  origin: string,
  isbn: string,
): Promise<{ url: string; status: number }> {
  const created = await fetch(`${origin}/v1/books`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Heavy cover', author: 'A', isbn }),
  });
  const { data } = (await created.json()) as { data: { id: string } };
  const url = `${origin}/v1/books/${data.id}/cover`;
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(MAX_COVER_BYTES - 8)]);
  const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: png });
  return { url, status: put.status };
}
