// The benchmark as an SVG: one panel per workload, one horizontal bar per contender
// (ops/s or the panel's unit, scaled to the fastest in that panel), coloured by family. No dependencies.

const COLORS = [
  [/^fio/, '#e8871e', 'fio (C reference)'],
  [/^(Ring|Aio) batch/, '#0b3d91', 'uring-aio batch path'],
  [/^(Ring|uring-aio\/fs)/, '#3d7fd9', 'uring-aio Ring and uring-aio/fs (promise per op)'],
  [/^Aio/, '#2a9d5c', 'uring-aio Aio'],
  [/./, '#9a9a9a', 'Node fs and net (libuv)'],
];

const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const colorOf = (name) => COLORS.find(([re]) => re.test(name))[1];

/** `workloads`: [{ title, unit?, results: { name: { opsPerSec, skipped } } }]. */
export function renderChart(workloads, title) {
  const width = 900;
  const labelWidth = 270;
  const barMax = width - labelWidth - 110;
  const rowHeight = 20;
  const parts = [];
  let y = 40;
  parts.push(`<text x="12" y="24" font-size="15" font-weight="bold">${escape(title)}</text>`);
  for (const w of workloads) {
    const rows = Object.entries(w.results).filter(([, r]) => !r.skipped);
    const max = Math.max(...rows.map(([, r]) => r.opsPerSec), 1);
    y += 14;
    parts.push(`<text x="12" y="${y}" font-size="13" font-weight="bold">${escape(w.title)}</text>`);
    y += 8;
    for (const [name, r] of rows) {
      const len = Math.max(1, (r.opsPerSec / max) * barMax);
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 14}" font-size="12" text-anchor="end">${escape(name)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${len.toFixed(1)}" height="${rowHeight - 6}" fill="${colorOf(name)}"/>`,
        `<text x="${(labelWidth + len + 6).toFixed(1)}" y="${y + 14}" font-size="12">${Math.round(r.opsPerSec).toLocaleString('en-US')} ${w.unit ?? 'ops/s'}</text>`,
      );
      y += rowHeight;
    }
    y += 10;
  }
  let x = 12;
  y += 6;
  for (const [, color, label] of COLORS) {
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${color}"/>`, `<text x="${x + 16}" y="${y + 11}" font-size="12">${escape(label)}</text>`);
    x += 24 + label.length * 6.6;
  }
  y += 24;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`;
}
