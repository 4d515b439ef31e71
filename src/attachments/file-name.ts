/**
 * A file name as a client sent it, made safe to keep and show: only its last path segment (browsers send
 * "C:\fakepath\scan.png", attackers "../../etc/passwd"), without control, format (bidirectional overrides) or
 * unassigned characters, NFC-normalised, white space collapsed, at most 255 characters with the extension kept. A
 * name with nothing left becomes "attachment".
 */
export const MAX_FILE_NAME_LENGTH = 255;
const FALLBACK = 'attachment';

export function sanitiseFileName(raw: string | undefined | null): string {
  const lastSegment = (raw ?? '').split(/[/\\]/).pop() ?? '';
  let name = lastSegment.normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
  // "." and ".." are not names; leading dots would hide the file on the machine it is downloaded to.
  name = name.replace(/^\.+/, '').trim();
  if (!name) return FALLBACK;
  const chars = [...name];
  if (chars.length <= MAX_FILE_NAME_LENGTH) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? [...name.slice(dot)] : [];
  const keep = extension.length > 0 && extension.length <= 16 ? extension : [];
  return chars.slice(0, MAX_FILE_NAME_LENGTH - keep.length).join('') + keep.join('');
}

/**
 * `attachment; filename="..."; filename*=UTF-8''...` (RFC 6266): the ASCII fallback for old clients with every
 * character outside printable ASCII, and the quote and backslash, replaced by "_", and the exact name encoded.
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
