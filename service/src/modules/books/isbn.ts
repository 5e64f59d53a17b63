// ISBN check digits (ISBN-10: weights 10..1, mod 11, X for 10; ISBN-13: weights 1,3,1,3…, mod 10).

export function normalizeIsbn(value: string): string {
  return value.replace(/[-\s]/g, '').toUpperCase();
}

export function isValidIsbn(value: string): boolean {
  if (/^\d{9}[\dX]$/.test(value)) {
    const sum = Array.from(value).reduce(
      (acc, char, i) => acc + (char === 'X' ? 10 : Number(char)) * (10 - i),
      0,
    );
    return sum % 11 === 0;
  }
  if (/^97[89]\d{10}$/.test(value)) {
    return isbn13CheckDigit(value.slice(0, 12)) === Number(value.at(12));
  }
  return false;
}

// ISBN-10 → 978 + its first nine digits + a new check digit: 0441013597 is 9780441013593.
export function toIsbn13(isbn: string): string {
  if (isbn.length !== 10) return isbn;
  const first12 = `978${isbn.slice(0, 9)}`;
  return `${first12}${String(isbn13CheckDigit(first12))}`;
}

export function isbn13CheckDigit(first12: string): number {
  const sum = Array.from(first12).reduce((acc, char, i) => acc + Number(char) * (i % 2 === 0 ? 1 : 3), 0);
  return (10 - (sum % 10)) % 10;
}
