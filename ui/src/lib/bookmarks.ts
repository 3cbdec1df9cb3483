// Bookmarks and the audit report on the UI side: reading the form, moving
// between bookmarks, naming the report. The engine keeps the bookmarks and
// writes the report; these only shape what is asked and shown.

import type { KeyLike } from './keys';
import { basename } from './format';

/** Tags typed comma-separated: trimmed, empty ones dropped, each once (as the engine reads them). */
export function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const t of text.split(',').map((s) => s.trim())) {
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/** The first line of a note with text on it ('' for an empty note). */
export function firstLine(note: string): string {
  for (const line of note.split(/\r\n|\r|\n/)) {
    const t = line.trim();
    if (t) return t;
  }
  return '';
}

/** Whether the note has more than its first line (the list shows a "more" hint). */
export function hasMoreLines(note: string): boolean {
  return note.trim().split(/\r\n|\r|\n/).filter((l) => l.trim()).length > 1;
}

/**
 * The seq of the nearest bookmark after (`forward`) or before `current`,
 * or null when there is none that way. `seqs` need not be sorted.
 */
export function adjacentBookmark(seqs: readonly number[], current: number, forward: boolean): number | null {
  let best: number | null = null;
  for (const s of seqs) {
    if (forward ? s > current && (best === null || s < best) : s < current && (best === null || s > best)) best = s;
  }
  return best;
}

/** What a key does inside the bookmark form: Ctrl+Enter saves, Esc cancels. */
export function formKey(e: KeyLike): 'save' | 'cancel' | null {
  if (e.key === 'Escape') return 'cancel';
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.altKey) return 'save';
  return null;
}

const COMPRESSED = /\.(gz|zst|zstd)$/i;

/** A file name without its directory, its compression suffix and one extension. */
export function stem(path: string): string {
  const name = basename(path).replace(COMPRESSED, '');
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** `<logname>-report.html` for the open files (the first one's name, and how many more). */
export function reportFileName(files: readonly string[]): string {
  const first = [...(files.length ? stem(files[0]) : 'hindsight')].slice(0, 80).join('') || 'hindsight';
  const more = files.length > 1 ? `-and-${files.length - 1}-more` : '';
  return `${first}${more}-report.html`;
}

/** Where the save dialog starts: beside the first file, named by `reportFileName`. */
export function reportDefaultPath(files: readonly string[]): string {
  const name = reportFileName(files);
  const first = files[0] ?? '';
  const cut = Math.max(first.lastIndexOf('/'), first.lastIndexOf('\\'));
  return cut >= 0 ? `${first.slice(0, cut + 1)}${name}` : name;
}
