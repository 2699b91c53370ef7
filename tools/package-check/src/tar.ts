import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/**
 * The files of a .tgz (as `npm pack` and `pnpm pack` write them), by path.
 * A small ustar reader so the checks need no `tar` binary.
 */
export function readTarball(path: string): Map<string, Buffer> {
  const bytes = gunzipSync(readFileSync(path));
  const files = new Map<string, Buffer>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= bytes.length) {
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) =>
      header.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const body = bytes.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    } else if (type === '0' || type === '\0') {
      files.set(paxPath ?? name, Buffer.from(body));
      paxPath = undefined;
    } else {
      paxPath = undefined;
    }
  }
  return files;
}
