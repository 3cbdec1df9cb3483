// Every log value is rendered as text: no component may inject HTML or
// take a link or a source from data.
import { describe, expect, it } from 'vitest';

// Every source of the UI as text (Vite reads them; no Node API needed).
const raw = import.meta.glob(['../**/*.svelte', '../**/*.ts', '!../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

describe('rendering safety', () => {
  const sources = Object.entries(raw).map(([p, text]) => ({ p, text }));

  it('finds the sources', () => {
    expect(sources.length).toBeGreaterThan(10);
    expect(sources.some((s) => s.p.endsWith('components/StateTree.svelte'))).toBe(true);
    expect(sources.some((s) => s.p.endsWith('/format.ts'))).toBe(true);
  });

  it('never injects HTML', () => {
    for (const { p, text } of sources) {
      expect(text, p).not.toMatch(/\{@html|innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it('never sets a link or a source in markup', () => {
    for (const { p, text } of sources.filter((s) => s.p.endsWith('.svelte'))) {
      expect(text, p).not.toMatch(/\s(href|src|srcset|action|formaction)=/);
    }
  });
});
