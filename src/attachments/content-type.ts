/**
 * The file types Carrel keeps, recognised by their first bytes (the "magic numbers" of each format), never by the
 * name or the type the client declares: a file named scan.png that is really an executable or an HTML page is
 * refused. Plain text is not among them: it has no signature, and "text" that is really HTML or SVG would be served
 * back to a browser. A file is stored with the type found here and served with it (and nosniff).
 */
const SIGNATURES: readonly { mediaType: string; matches: (b: Buffer) => boolean }[] = [
  { mediaType: 'application/pdf', matches: (b) => startsWith(b, 0, '%PDF-') },
  { mediaType: 'image/png', matches: (b) => startsWith(b, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { mediaType: 'image/jpeg', matches: (b) => startsWith(b, 0, [0xff, 0xd8, 0xff]) },
  { mediaType: 'image/gif', matches: (b) => startsWith(b, 0, 'GIF87a') || startsWith(b, 0, 'GIF89a') },
  { mediaType: 'image/tiff', matches: (b) => startsWith(b, 0, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, 0, [0x4d, 0x4d, 0x00, 0x2a]) },
  { mediaType: 'image/webp', matches: (b) => startsWith(b, 0, 'RIFF') && startsWith(b, 8, 'WEBP') },
];

/** The media types accepted, for messages and documentation. */
export const ACCEPTED_MEDIA_TYPES = SIGNATURES.map((s) => s.mediaType);

/** How many leading bytes decide the type. */
export const SNIFF_BYTES = 12;

function startsWith(b: Buffer, at: number, signature: string | number[]): boolean {
  const bytes = typeof signature === 'string' ? Buffer.from(signature, 'latin1') : Buffer.from(signature);
  return b.length >= at + bytes.length && b.subarray(at, at + bytes.length).equals(bytes);
}

/** The media type the content is, or null when it is none of the accepted types. */
export function sniffMediaType(content: Buffer): string | null {
  return SIGNATURES.find((s) => s.matches(content))?.mediaType ?? null;
}
