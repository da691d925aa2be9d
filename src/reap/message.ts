// The reap commit's message: the audit record of what was removed and on what evidence.
import { branchDeployDir, renderedDir } from '../layout/index.js';
import { systemName } from '../transaction/index.js';
import type { ReapItem } from './plan.js';

export function reapMessage(items: readonly ReapItem[]): string {
  const count = items.length === 1 ? '1 branch deploy' : `${items.length} branch deploys`;
  const gone = items.filter((i) => i.reason === 'branch-gone').length;
  const idle = items.length - gone;
  const why = [gone > 0 ? `${gone} branch gone upstream` : '', idle > 0 ? `${idle} idle` : ''].filter(Boolean).join(', ');
  return [
    `Reap ${count} (${why})`,
    '',
    ...items.map((i) => `- ${i.app} ${i.branch} (${i.slug}): ${i.reason}: ${i.detail}`),
    '',
    `Their ${branchDeployDir('<app>', '<slug>')}/ and ${renderedDir('<app>', '<slug>')}/ folders are removed; the gitops engine`,
    'prunes the objects. A branch counts as gone only when two complete listings, one after the other,',
    'both lack it.',
    '',
    `X1-Agent: ${systemName('reap')}`,
    ...items.map((i) => `X1-Reaped: ${i.app} ${i.branch} ${i.reason}`),
  ].join('\n');
}
