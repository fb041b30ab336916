// The functions with the most self time in a V8 CPU profile (node --cpu-prof), with their share
// of all samples, so a benchmark run says where the server's time went without opening DevTools.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
}

/** "share%  function  file:line" lines, most self time first; node_modules paths shortened to the package. */
export function summarizeProfile(json: string, top: number): string[] {
  const profile = JSON.parse(json) as CpuProfile;
  const hits = new Map<number, number>();
  if (profile.samples?.length) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const h = hits.get(n.id) ?? 0;
    if (!h) continue;
    total += h;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url.includes('node_modules/')
      ? url.slice(url.lastIndexOf('node_modules/') + 'node_modules/'.length)
      : url.replace(/^file:\/\/.*?\/(api|bench|shared|testing)\//, '$1/');
    const key = `${functionName || '(anonymous)'}  ${where ? `${where}:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + h);
  }
  return [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, h]) => `${((100 * h) / Math.max(total, 1)).toFixed(1).padStart(5)}%  ${key}`);
}
