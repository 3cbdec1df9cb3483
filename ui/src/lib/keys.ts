// The keyboard map: which key does what, and the help overlay's list.

export type Action =
  | 'step-back'
  | 'step-forward'
  | 'jump-back'
  | 'jump-forward'
  | 'start'
  | 'end'
  | 'play'
  | 'focus-filter'
  | 'open'
  | 'help'
  | 'close'
  | 'pin'
  | 'prev-type'
  | 'next-type'
  | 'prev-key'
  | 'next-key'
  | 'prev-match'
  | 'next-match'
  | 'bookmark'
  | 'prev-bookmark'
  | 'next-bookmark'
  | 'export-report'
  | 'follow'
  | 'prev-watch'
  | 'next-watch'
  | 'entity';

export interface KeyLike {
  key: string;
  shiftKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

export interface Shortcut {
  keys: string;
  actions: Action[];
  label: string;
}

/** Every shortcut, in the order the help overlay lists them. */
export const SHORTCUTS: readonly Shortcut[] = [
  { keys: '← / →', actions: ['step-back', 'step-forward'], label: 'Step one event back / forward' },
  { keys: 'Shift+← / Shift+→', actions: ['jump-back', 'jump-forward'], label: 'Jump 100 events back / forward' },
  { keys: 'Home / End', actions: ['start', 'end'], label: 'First / last event' },
  { keys: 'Space', actions: ['play'], label: 'Play / pause' },
  { keys: '[ / ]', actions: ['prev-type', 'next-type'], label: 'Previous / next event of the same type' },
  { keys: '{ / }', actions: ['prev-key', 'next-key'], label: 'Previous / next event of the same key' },
  { keys: 'N / n', actions: ['prev-match', 'next-match'], label: 'Previous / next event matching the filter' },
  { keys: 'p', actions: ['pin'], label: 'Pin A here (diff against it) / unpin' },
  { keys: 'b', actions: ['bookmark'], label: 'Bookmark this event (a note and tags; Ctrl+Enter saves)' },
  { keys: ', / .', actions: ['prev-bookmark', 'next-bookmark'], label: 'Previous / next bookmark' },
  { keys: 'W / w', actions: ['prev-watch', 'next-watch'], label: 'Previous / next change of the watched value (right-click a value → Watch)' },
  { keys: 'e', actions: ['entity'], label: "Entity history: this event's key, its events and values" },
  { keys: 'f', actions: ['follow'], label: 'Follow: keep the scrubber on the newest event as the file grows / stop' },
  { keys: '/', actions: ['focus-filter'], label: 'Search: focus the filter' },
  { keys: 'Ctrl+O', actions: ['open'], label: 'Open log files' },
  { keys: 'Ctrl+E', actions: ['export-report'], label: 'Export the audit report (HTML)' },
  { keys: '?', actions: ['help'], label: 'Show / hide this help' },
  { keys: 'Esc', actions: ['close'], label: 'Close help, menus, popovers and the entity history; leave a text field' },
];

/** Whether focus is somewhere that takes typed text (keys go there). */
export function isTypingTarget(el: unknown): boolean {
  if (!el || typeof el !== 'object') return false;
  const e = el as { tagName?: string; isContentEditable?: boolean; type?: string };
  if (e.isContentEditable) return true;
  const tag = (e.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  const type = (e.type ?? 'text').toLowerCase();
  return !['button', 'checkbox', 'radio', 'range', 'submit', 'reset', 'color', 'file'].includes(type);
}

/**
 * The action for a key press, or null to leave the key alone. While the
 * user types in a field only Ctrl+O, Ctrl+E and Esc are taken.
 */
export function actionFor(e: KeyLike, typing: boolean): Action | null {
  const ctrl = !!(e.ctrlKey || e.metaKey);
  if (ctrl && !e.altKey && (e.key === 'o' || e.key === 'O')) return 'open';
  if (ctrl && !e.altKey && (e.key === 'e' || e.key === 'E')) return 'export-report';
  if (e.key === 'Escape') return 'close';
  if (typing || ctrl || e.altKey) return null;
  switch (e.key) {
    case 'ArrowLeft':
      return e.shiftKey ? 'jump-back' : 'step-back';
    case 'ArrowRight':
      return e.shiftKey ? 'jump-forward' : 'step-forward';
    case 'Home':
      return 'start';
    case 'End':
      return 'end';
    case ' ':
    case 'Spacebar':
      return 'play';
    case '/':
      return 'focus-filter';
    case '?':
      return 'help';
    case 'p':
    case 'P':
      return 'pin';
    case '[':
      return 'prev-type';
    case ']':
      return 'next-type';
    case '{':
      return 'prev-key';
    case '}':
      return 'next-key';
    case 'n':
      return 'next-match';
    case 'N':
      return 'prev-match';
    case 'b':
    case 'B':
      return 'bookmark';
    case 'f':
    case 'F':
      return 'follow';
    case 'w':
      // Shift+w may arrive as a lower-case key with Shift held.
      return e.shiftKey ? 'prev-watch' : 'next-watch';
    case 'W':
      return 'prev-watch';
    case 'e':
    case 'E':
      return 'entity';
    case ',':
      return 'prev-bookmark';
    case '.':
      return 'next-bookmark';
    default:
      return null;
  }
}

/** How far a step action moves the scrubber, or null for other actions. */
export function stepOf(action: Action): number | null {
  switch (action) {
    case 'step-back':
      return -1;
    case 'step-forward':
      return 1;
    case 'jump-back':
      return -100;
    case 'jump-forward':
      return 100;
    default:
      return null;
  }
}
