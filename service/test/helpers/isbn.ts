// Generates distinct, valid ISBN-13s so tests never collide on the unique index by accident.
import { isbn13CheckDigit } from '../../src/modules/books/isbn.ts';

let counter = 0;

export function uniqueIsbn(): string {
  counter += 1;
  const body = `978${String(process.pid % 1000).padStart(3, '0')}${String(counter).padStart(6, '0')}`;
  return `${body}${String(isbn13CheckDigit(body))}`;
}
