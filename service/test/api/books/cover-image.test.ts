// A cover's declared type must match its bytes: each allowed type is recognised by its signature, and
// nothing else passes (other types, other bytes, or names Object.prototype happens to have).
import t from 'tap';
import { COVER_TYPES, isCoverImage } from '../../../src/modules/books/cover-image.ts';

const samples: Record<string, Buffer> = {
  'image/png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00]),
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  'image/gif': Buffer.from('GIF89a……', 'latin1'),
  'image/webp': Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]),
};

t.test('every allowed type accepts its own signature and no other type’s', async (t) => {
  t.same(Object.keys(samples).sort(), Object.keys(COVER_TYPES).sort(), 'a sample for every allowed type');
  for (const [declared, _] of Object.entries(samples)) {
    for (const [actual, data] of Object.entries(samples)) {
      t.equal(isCoverImage(declared, data), declared === actual, `${actual} bytes declared as ${declared}`);
    }
  }
});

t.test('unknown types, empty and short bodies are refused', async (t) => {
  t.notOk(isCoverImage('image/svg+xml', Buffer.from('<svg/>')));
  t.notOk(isCoverImage('constructor', Buffer.from('x')), 'not fooled by Object.prototype');
  t.notOk(isCoverImage('image/png', Buffer.alloc(0)));
  t.notOk(isCoverImage('image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47])), 'a truncated signature');
  t.notOk(isCoverImage('image/gif', Buffer.from('GIF90a', 'latin1')));
});
