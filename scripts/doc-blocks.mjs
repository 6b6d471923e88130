// The TypeScript blocks of the documentation, for scripts/check-snippets.mjs (which
// type-checks them) and scripts/run-snippets.mjs (which runs them): every ```ts block of
// README.md and of the pages under docs/, in that order. docs/ARCHITECTURE.md is left
// out: its one block is an excerpt of lib/ops.ts, not a program.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The pages, relative to the package root. */
export function docPages() {
  const docs = fs.readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md') && name !== 'ARCHITECTURE.md')
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/**
 * Every block as { page, line, code, name }: `name` (`README-03`, `docs-ring-12`) names
 * the file a block is written to, `line` is where it starts in its page.
 */
export function docBlocks() {
  return docPages().flatMap((page) => {
    const text = fs.readFileSync(path.join(root, page), 'utf8');
    const stem = page.replace(/\.md$/, '').replace('/', '-');
    return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m, i) => ({
      page,
      line: text.slice(0, m.index).split('\n').length,
      code: m[1],
      name: `${stem}-${String(i + 1).padStart(2, '0')}`,
    }));
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading) {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/**
 * Relative links of the pages that lead nowhere: a file that does not exist, or an
 * anchor no heading of the target page makes. Generated output (docs/api/) and
 * external links are not checked.
 */
export function brokenLinks() {
  const anchorsOf = new Map();
  const anchors = (file) => {
    if (!anchorsOf.has(file)) {
      const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
      anchorsOf.set(file, new Set([...text.matchAll(/^#{1,6} (.*)$/gm)].map((m) => slug(m[1]))));
    }
    return anchorsOf.get(file);
  };
  const broken = [];
  for (const page of [...docPages(), 'docs/ARCHITECTURE.md']) {
    const file = path.join(root, page);
    const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [rel, anchor] = target.split('#');
      const dest = rel === '' ? file : path.resolve(path.dirname(file), rel);
      if (path.relative(root, dest).startsWith(`docs${path.sep}api`)) continue;
      if (!fs.existsSync(dest)) broken.push(`${page}: ${target} (no such file)`);
      else if (anchor !== undefined && dest.endsWith('.md') && !anchors(dest).has(anchor)) broken.push(`${page}: ${target} (no such heading)`);
    }
  }
  return broken;
}
