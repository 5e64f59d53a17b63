// A cover is a small image of a known type, recognised by its first bytes.

export const COVER_TYPES: Readonly<Record<string, (data: Buffer) => boolean>> = {
  'image/png': (data) =>
    data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (data) => data.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])),
  'image/gif': (data) => /^GIF8[79]a/.test(data.subarray(0, 6).toString('latin1')),
  'image/webp': (data) =>
    data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP',
};

// Held whole in memory and in one database row.
export const MAX_COVER_BYTES = 1024 * 1024;

export function isCoverImage(contentType: string, data: Buffer): boolean {
  return Object.hasOwn(COVER_TYPES, contentType) && COVER_TYPES[contentType]?.(data) === true;
}
