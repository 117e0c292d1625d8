import { StringDecoder } from 'node:string_decoder';

/**
 * The lines of a CSV file, a chunk's worth at a time, without their line breaks (`\r\n`,
 * `\n` or `\r`). A byte-order mark is dropped; `FF FE` reads the file as UTF-16LE, like
 * csv-parse's `bom` option.
 */
export async function* csvLines(input: AsyncIterable<Buffer>, read: { bytes: number }): AsyncGenerator<string[]> {
  let decoder: StringDecoder | null = null;
  let text = '';
  for await (const chunk of input) {
    read.bytes += chunk.length;
    if (decoder === null) {
      decoder = new StringDecoder(chunk[0] === 0xff && chunk[1] === 0xfe ? 'utf16le' : 'utf8');
      text = decoder.write(chunk).replace(/^\uFEFF/, '');
    } else {
      text += decoder.write(chunk);
    }
    const [lines, rest] = splitLines(text, false);
    text = rest;
    if (lines.length > 0) yield lines;
  }
  text += decoder?.end() ?? '';
  const [lines] = splitLines(text, true);
  if (lines.length > 0) yield lines;
}

/** Whole lines and what follows the last break (a `\r` at the end may be half of a `\r\n`). */
function splitLines(text: string, end: boolean): [string[], string] {
  const lines: string[] = [];
  const breaks = /\r\n|\n|\r/g;
  let start = 0;
  for (let m = breaks.exec(text); m !== null; m = breaks.exec(text)) {
    if (!end && m[0] === '\r' && m.index === text.length - 1) break;
    lines.push(text.slice(start, m.index));
    start = m.index + m[0].length;
  }
  const rest = text.slice(start);
  if (end && rest !== '') lines.push(rest);
  return [lines, end ? '' : rest];
}
