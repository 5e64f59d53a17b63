// The ISBN rules on their own: normalisation, both check-digit schemes, and the ISBN-13 check digit the
// test helper builds its ISBNs with.
import t from 'tap';
import { isbn13CheckDigit, isValidIsbn, normalizeIsbn } from '../src/modules/books/isbn.ts';

t.test('normalizeIsbn drops hyphens and spaces and upper-cases the X', async (t) => {
  t.equal(normalizeIsbn('978-0 441-01359-3'), '9780441013593');
  t.equal(normalizeIsbn('0-8044-2957-x'), '080442957X');
});

t.test('valid ISBN-10s and ISBN-13s pass, a wrong check digit fails', async (t) => {
  for (const valid of ['9780441013593', '9780262510875', '080442957X', '0262510871', '9791090636071']) {
    t.ok(isValidIsbn(valid), valid);
  }
  for (const invalid of ['9780441013590', '0804429570', '9770441013593', '97804410135', '080442957x', '']) {
    t.notOk(isValidIsbn(invalid), invalid);
  }
});

t.test('isbn13CheckDigit completes twelve digits into a valid ISBN-13', async (t) => {
  t.equal(isbn13CheckDigit('978044101359'), 3);
  t.equal(isbn13CheckDigit('978026251087'), 5);
  for (const first12 of ['978000000000', '979123456789', '978999999999']) {
    t.ok(isValidIsbn(`${first12}${String(isbn13CheckDigit(first12))}`), first12);
  }
});
