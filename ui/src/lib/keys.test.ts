import { describe, expect, it } from 'vitest';
import { SHORTCUTS, actionFor, isTypingTarget, stepOf, type Action } from './keys';

const k = (key: string, mods: { shiftKey?: boolean; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean } = {}) => ({
  key,
  ...mods,
});

describe('key map', () => {
  it('steps and jumps with the arrows', () => {
    expect(actionFor(k('ArrowLeft'), false)).toBe('step-back');
    expect(actionFor(k('ArrowRight'), false)).toBe('step-forward');
    expect(actionFor(k('ArrowLeft', { shiftKey: true }), false)).toBe('jump-back');
    expect(actionFor(k('ArrowRight', { shiftKey: true }), false)).toBe('jump-forward');
    expect(stepOf('step-back')).toBe(-1);
    expect(stepOf('jump-forward')).toBe(100);
    expect(stepOf('jump-back')).toBe(-100);
    expect(stepOf('play')).toBeNull();
  });

  it('maps Home/End, Space, /, ? and Ctrl+O', () => {
    expect(actionFor(k('Home'), false)).toBe('start');
    expect(actionFor(k('End'), false)).toBe('end');
    expect(actionFor(k(' '), false)).toBe('play');
    expect(actionFor(k('/'), false)).toBe('focus-filter');
    expect(actionFor(k('?', { shiftKey: true }), false)).toBe('help');
    expect(actionFor(k('o', { ctrlKey: true }), false)).toBe('open');
    expect(actionFor(k('O', { ctrlKey: true, shiftKey: true }), false)).toBe('open');
    expect(actionFor(k('o', { metaKey: true }), false)).toBe('open');
  });

  it('bookmarks with b, moves between bookmarks with , and ., exports with Ctrl+E', () => {
    expect(actionFor(k('b'), false)).toBe('bookmark');
    expect(actionFor(k('B', { shiftKey: true }), false)).toBe('bookmark');
    expect(actionFor(k(','), false)).toBe('prev-bookmark');
    expect(actionFor(k('.'), false)).toBe('next-bookmark');
    expect(actionFor(k('e', { ctrlKey: true }), false)).toBe('export-report');
    expect(actionFor(k('E', { ctrlKey: true, shiftKey: true }), false)).toBe('export-report');
    expect(actionFor(k('e', { metaKey: true }), false)).toBe('export-report');
    expect(actionFor(k('e', { ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(actionFor(k('b', { ctrlKey: true }), false)).toBeNull();
    // Without Ctrl, e is the entity history.
    expect(actionFor(k('e'), false)).toBe('entity');
    // The brackets stay with the same type.
    expect(actionFor(k('['), false)).toBe('prev-type');
    expect(actionFor(k(']'), false)).toBe('next-type');
  });

  it('toggles Follow with f', () => {
    expect(actionFor(k('f'), false)).toBe('follow');
    expect(actionFor(k('F', { shiftKey: true }), false)).toBe('follow');
    expect(actionFor(k('f', { ctrlKey: true }), false)).toBeNull();
    expect(actionFor(k('f', { altKey: true }), false)).toBeNull();
    expect(stepOf('follow')).toBeNull();
  });

  it('moves between changes of the watched value with w and W', () => {
    expect(actionFor(k('w'), false)).toBe('next-watch');
    expect(actionFor(k('W', { shiftKey: true }), false)).toBe('prev-watch');
    expect(actionFor(k('w', { shiftKey: true }), false)).toBe('prev-watch');
    expect(actionFor(k('w', { ctrlKey: true }), false)).toBeNull();
    expect(actionFor(k('E', { shiftKey: true }), false)).toBe('entity');
    expect(stepOf('next-watch')).toBeNull();
  });

  it('leaves keys alone while the user types, except Ctrl+O, Ctrl+E and Esc', () => {
    for (const key of ['ArrowLeft', 'ArrowRight', 'Home', 'End', ' ', '/', '?', 'p', 'n', '[', 'b', 'B', ',', '.', 'f', 'F', 'w', 'W', 'e']) {
      expect(actionFor(k(key), true)).toBeNull();
    }
    expect(actionFor(k('e', { ctrlKey: true }), true)).toBe('export-report');
    expect(actionFor(k('o', { ctrlKey: true }), true)).toBe('open');
    expect(actionFor(k('Escape'), true)).toBe('close');
  });

  it('ignores other modified keys and unknown keys', () => {
    expect(actionFor(k('ArrowLeft', { ctrlKey: true }), false)).toBeNull();
    expect(actionFor(k('ArrowLeft', { altKey: true }), false)).toBeNull();
    expect(actionFor(k('o'), false)).toBeNull();
    expect(actionFor(k('x'), false)).toBeNull();
  });

  it('lists every action in the help', () => {
    const all: Action[] = [
      'step-back', 'step-forward', 'jump-back', 'jump-forward', 'start', 'end', 'play', 'focus-filter', 'open',
      'help', 'close', 'pin', 'prev-type', 'next-type', 'prev-key', 'next-key', 'prev-match', 'next-match',
      'bookmark', 'prev-bookmark', 'next-bookmark', 'export-report', 'follow', 'prev-watch', 'next-watch', 'entity',
    ];
    const listed = new Set(SHORTCUTS.flatMap((s) => s.actions));
    for (const a of all) expect(listed.has(a), a).toBe(true);
    // Each listed key really does what the help says.
    const keyOf: Partial<Record<Action, Parameters<typeof actionFor>[0]>> = {
      bookmark: k('b'),
      'prev-bookmark': k(','),
      'next-bookmark': k('.'),
      'export-report': k('e', { ctrlKey: true }),
      follow: k('f'),
      'next-watch': k('w'),
      'prev-watch': k('W', { shiftKey: true }),
      entity: k('e'),
    };
    for (const [action, key] of Object.entries(keyOf)) expect(actionFor(key!, false)).toBe(action);
  });

  it('knows which targets take typing', () => {
    expect(isTypingTarget({ tagName: 'INPUT', type: 'text' })).toBe(true);
    expect(isTypingTarget({ tagName: 'INPUT', type: 'search' })).toBe(true);
    expect(isTypingTarget({ tagName: 'INPUT', type: 'checkbox' })).toBe(false);
    expect(isTypingTarget({ tagName: 'TEXTAREA' })).toBe(true);
    expect(isTypingTarget({ tagName: 'SELECT' })).toBe(true);
    expect(isTypingTarget({ tagName: 'DIV', isContentEditable: true })).toBe(true);
    expect(isTypingTarget({ tagName: 'BUTTON' })).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});
