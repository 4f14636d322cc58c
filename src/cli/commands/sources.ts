import {
  atRiskSources,
  rescueSources,
  sourceHealth,
  type FileHealth,
  type RescueResult,
  type SourceHealth,
  type SourceHealthReport,
} from '../../services/source-health';
import { directoryOrFileArgument, print, type Command } from '../command';
import { nodeOptions, serviceContext } from '../context';

export const sourcesCommand: Command = {
  usage: '<dir | file.nix> [--check] [--at-risk] [--rescue] [--json]',
  options: { ...nodeOptions, check: { type: 'boolean' }, 'at-risk': { type: 'boolean' }, rescue: { type: 'boolean' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    const target = await directoryOrFileArgument(positionals);
    const ctx = serviceContext(values);
    const check = Boolean(values.check);
    let report = await sourceHealth(ctx, [target], { check });
    let rescue: RescueResult | undefined;
    if (values.rescue) {
      rescue = await rescueSources(ctx, atRiskSources(report), {
        onProgress: (e) => {
          if (!values.json) process.stderr.write(`[${e.done}/${e.total}] ${e.error ? `failed ${e.name}: ${e.error}` : `rescued ${e.name}`}\n`);
        },
      });
      report = await sourceHealth(ctx, [target], { check });
    }
    const shown = values['at-risk'] ? onlyAtRisk(report) : report;
    print(values, rescue ? { ...shown, rescue } : shown, [...reportLines(shown), ...(rescue ? rescueLines(rescue) : [])].join('\n'));
    const problems = report.files.some((f) => f.problem) || (rescue?.failed.length ?? 0) > 0;
    return problems ? 1 : 0;
  },
};

/** The report without its safe sources (files with a problem stay). */
function onlyAtRisk(report: SourceHealthReport): SourceHealthReport {
  const files = report.files
    .map((f): FileHealth => ({ ...f, sources: f.sources.filter((s) => s.risk !== 'safe') }))
    .filter((f) => f.sources.length > 0 || f.problem);
  return { ...report, files };
}

function reportLines(report: SourceHealthReport): string[] {
  const lines = report.files.flatMap((f) => [`${f.file}${f.problem ? `: ${f.problem}` : ''}`, ...f.sources.map(sourceLine)]);
  const upstream = report.checked ? '' : ' (upstream URLs not checked: add --check)';
  return [...lines, `${report.total} sources: ${report.atRisk} at risk, ${report.lost} lost${upstream}`];
}

function sourceLine(s: SourceHealth): string {
  const upstream = `upstream ${s.upstream.state}${s.upstream.detail ? ` (${s.upstream.detail})` : ''}`;
  const store = s.store.valid ? 'in store' : 'not in store';
  const node = s.node.state === 'pinned' || s.node.state === 'mirrored' ? `${s.node.state} ${s.node.cid}` : `node: ${s.node.detail ?? s.node.state}`;
  const risk = s.risk === 'safe' ? '' : `  ${s.risk.toUpperCase()}`;
  return `  ${s.line}: ${s.name}  ${s.hash}  ${upstream} · ${store} · ${node}${risk}`;
}

function rescueLines(r: RescueResult): string[] {
  return [
    `rescue: ${r.rescued.length} pinned, ${r.alreadyPinned.length} already pinned, ${r.failed.length} could not be saved`,
    ...r.rescued.map((s) => `rescued: ${s.name} from the ${s.from === 'store' ? 'Nix store' : 'upstream URL'} → ${s.cid}`),
    ...r.failed.map((f) => `not saved: ${f.name} ${f.hash}: ${f.error}`),
  ];
}
