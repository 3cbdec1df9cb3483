// The desktop side: the native open and save dialogs and files dropped on
// the window. Opening ends in `app.openPaths`, the same function
// `window.hindsight` exposes; the save dialog asks where the report goes.

import { open as openDialog, save as saveDialog } from '@tauri-apps/plugin-dialog';
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { listen } from '@tauri-apps/api/event';
import { app } from './app.svelte';
import { reportDefaultPath } from './bookmarks';
import type { TextIndexProgress } from './ipc-types';

/** Ctrl+O / the Open button: the native dialog, several files allowed. */
export async function chooseFiles(): Promise<void> {
  try {
    const picked = await openDialog({
      multiple: true,
      directory: false,
      title: 'Open event logs',
      filters: [
        { name: 'Event logs', extensions: ['jsonl', 'ndjson', 'json', 'log', 'csv', 'tsv', 'txt', 'gz', 'zst'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    if (!picked) return;
    await app.openPaths(Array.isArray(picked) ? picked : [picked]);
  } catch (e) {
    app.fail(e);
  }
}

/** Ctrl+E / the Report button: the native save dialog, then the engine writes the report there. */
export async function chooseReportPath(): Promise<void> {
  if (!app.info || app.exporting) return;
  try {
    const picked = await saveDialog({
      title: 'Export the audit report',
      defaultPath: reportDefaultPath(app.info.files),
      filters: [{ name: 'HTML report', extensions: ['html', 'htm'] }],
    });
    if (!picked) return;
    await app.exportReport(picked);
  } catch (e) {
    app.fail(e);
  }
}

/** Listens for files dragged onto the window; returns the unlisten function. */
export async function listenForDrops(): Promise<() => void> {
  try {
    return await getCurrentWebview().onDragDropEvent((event) => {
      const p = event.payload;
      if (p.type === 'enter' || p.type === 'over') {
        app.dragging = true;
      } else if (p.type === 'leave') {
        app.dragging = false;
      } else if (p.type === 'drop') {
        app.dragging = false;
        // Several files dropped together are one source.
        if (p.paths.length) void app.openPaths(p.paths);
      }
    });
  } catch {
    // Not inside the desktop shell (e.g. a plain browser): no drops.
    return () => {};
  }
}

/**
 * Live tail: listens for the shell's `files-changed` (one of the open files
 * changed); returns the unlisten function. `app.watching` says whether the
 * window hears it.
 */
export async function listenForChanges(): Promise<() => void> {
  try {
    const unlisten = await listen('files-changed', () => app.filesChanged());
    // How far the text index is built, also for the status bar.
    const unlistenText = await listen<TextIndexProgress>('text-index', (e) => app.textIndexed(e.payload));
    app.watching = true;
    return () => {
      app.watching = false;
      unlisten();
      unlistenText();
    };
  } catch {
    // Not inside the desktop shell: no live tail.
    app.watching = false;
    return () => {};
  }
}

declare global {
  interface Window {
    hindsight?: { openPaths(paths: string[]): Promise<void> };
  }
}

/** The hook end-to-end tests use: the same code path a drop takes. */
export function exposeHook(): void {
  window.hindsight = { openPaths: (paths: string[]) => app.openPaths(paths) };
}
