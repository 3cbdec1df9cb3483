// Fixtures the scenarios need, written fresh into a temp dir on every run
// (nothing binary is committed), and facts read from the demo log so the
// assertions do not depend on the app under test.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const XSS = Object.freeze({
  script: '<script>window.__pwned=1</script>',
  img: '<img src=x onerror="window.__pwned=1">',
  link: 'javascript:window.__pwned=1',
});

/** A log whose types, keys, payload keys and payload values carry markup. */
export function xssLog() {
  const { script, img, link } = XSS;
  const t = (s) => `2024-05-01T10:00:0${s}.000Z`;
  const lines = [
    { ts: t(0), level: 'info', type: script, streamId: img, data: { name: script, [script]: img, homepage: link, note: `[click me](${link})` } },
    { ts: t(1), level: 'warn', type: img, streamId: img, data: { name: img, [img]: script, homepage: `<a href="${link}">${link}</a>` } },
    { ts: t(2), level: 'error', type: `<a href="${link}">${link}</a>`, streamId: script, data: { [link]: script, html: `<b>bold</b>${img}` } },
    { ts: t(3), level: 'info', type: 'Plain', streamId: script, data: { [script]: link, [link]: img } },
  ];
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

/** Bytes no log reader should take for text: NULs, a PNG header, every byte value. */
export function binaryBytes() {
  const head = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
  const body = Buffer.alloc(4096);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 8)) & 0xff;
  return Buffer.concat([head, body]);
}

export async function writeFixtures(dir) {
  await mkdir(dir, { recursive: true });
  const f = {
    xss: path.join(dir, 'xss-events.jsonl'),
    binary: path.join(dir, 'not-a-log.bin'),
    empty: path.join(dir, 'empty-log.jsonl'),
  };
  await writeFile(f.xss, xssLog());
  await writeFile(f.binary, binaryBytes());
  await writeFile(f.empty, '');
  return f;
}

/** Facts about demo/shop.jsonl, read straight from the file. */
export async function demoFacts(file) {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const events = lines.map((l) => JSON.parse(l));
  const bySeq = (seq) => events[seq - 1];
  const seqsOfType = (type) => events.flatMap((e, i) => (e.type === type ? [i + 1] : []));
  return { count: events.length, bySeq, seqsOfType };
}
