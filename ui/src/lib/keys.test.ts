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

  it('leaves keys alone while the user types, except Ctrl+O and Esc', () => {
    for (const key of ['ArrowLeft', 'ArrowRight', 'Home', 'End', ' ', '/', '?', 'p', 'n', '[']) {
      expect(actionFor(k(key), true)).toBeNull();
    }
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
    ];
    const listed = new Set(SHORTCUTS.flatMap((s) => s.actions));
    for (const a of all) expect(listed.has(a), a).toBe(true);
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
