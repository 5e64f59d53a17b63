// Generates distinct, valid ISBN-13s so tests never collide on the unique index by accident.
let counter = 0;

export function uniqueIsbn(): string {
  counter += 1;
  const body = `978${String(process.pid % 1000).padStart(3, '0')}${String(counter).padStart(6, '0')}`;
  const sum = Array.from(body).reduce((acc, char, i) => acc + Number(char) * (i % 2 === 0 ? 1 : 3), 0);
  return `${body}${(10 - (sum % 10)) % 10}`;
}
