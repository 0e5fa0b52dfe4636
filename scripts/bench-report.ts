// The benchmark's report: number formats and the SVG chart of docs/benchmarks.svg.

export const ratio = (r: number, digits: number): string => (Number.isFinite(r) ? `${fmt(r, digits)}×` : '—');
export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—';

export function svgChart(rows: Array<{ workload: string; values: Array<[string, number]> }>, servers: string[]): string {
  const colors = ['#2b6cb0', '#2f855a', '#c05621', '#805ad5', '#b83280', '#718096'];
  const barH = 14;
  const gap = 10;
  const left = 260;
  const width = 900;
  let y = 40;
  const parts: string[] = [];
  for (const row of rows) {
    const max = Math.max(...row.values.map(([, v]) => (Number.isFinite(v) ? v : 0)), 1);
    parts.push(`<text x="10" y="${y + barH}" font-size="13" font-weight="bold">${row.workload}</text>`);
    for (const [name, v] of row.values) {
      const w = Number.isFinite(v) ? ((width - left - 120) * v) / max : 0;
      const c = colors[servers.indexOf(name) % colors.length];
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${c}"/>`);
      parts.push(`<text x="${left - 6}" y="${y + barH - 3}" font-size="11" text-anchor="end">${name}</text>`);
      parts.push(`<text x="${left + w + 6}" y="${y + barH - 3}" font-size="11">${fmt(v)}</text>`);
      y += barH + 3;
    }
    y += gap;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">PWS benchmark: requests/s (MiB/s for the 10 MiB file), higher is better</text>
${parts.join('\n')}
</svg>
`;
}
