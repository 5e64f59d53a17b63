// The ISBN rules on their own: normalisation, both check-digit schemes, and the ISBN-13 check digit the
// test helper builds its ISBNs with.
import t from 'tap';
import { isbn13CheckDigit, isValidIsbn, normalizeIsbn, toIsbn13 } from '../../../src/modules/books/isbn.ts';

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

t.test('toIsbn13: an ISBN-10 becomes the ISBN-13 of the same book, an ISBN-13 stays as it is', async (t) => {
  t.equal(toIsbn13('0441013597'), '9780441013593');
  t.equal(toIsbn13('080442957X'), '9780804429573');
  t.equal(toIsbn13('0262510871'), '9780262510875');
  t.equal(toIsbn13('9791090636071'), '9791090636071');
  t.ok(isValidIsbn(toIsbn13('0306406152')));
});
