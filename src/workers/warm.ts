import { parseRunConfig } from '../config/validate';
import { judgeAgreement } from '../experiment/judges';
import { conditionNames, interventionTable } from '../experiment/interventions';
import { scoreRecord } from '../experiment/metrics';
import { buildSummary } from '../experiment/summary';
import { renderReportHtml } from '../report';
import { simulatedRecords } from '../sim/records';

// A fresh worker's first run used to end about 0.3 s later than the next: writeArtifacts met the summary's
// statistics and vega's chart rendering cold (JIT, first compiles). The `thought-probe worker` command warms
// both once it polls: a tiny simulated run's summary and report.html, made in memory and dropped.

const ROWS = [
  'The lighthouse keeper climbed the spiral stairs every evening before sunset.',
  'Photosynthesis converts light energy into chemical energy inside plant cells.',
  'The startup raised its first funding round in a cramped garage office.',
  'Medieval cathedrals took generations of craftsmen to complete.',
].map((prefix, i) => ({ id: `warm-${i}`, prefix, suffix: `${prefix} It went on as such stories go, one plain sentence after another.` }));

/** Builds and renders a tiny run's summary and report in memory; resolves when done (with what failed, if anything), never rejects. */
export async function warmReports(): Promise<{ ms: number; error?: string; htmlBytes?: number; charts?: number }> {
  const t0 = Date.now();
  try {
    const config = parseRunConfig({
      name: 'warm-up',
      dataset: { rows: ROWS, limit: ROWS.length },
      samplesPerPrefix: 2,
      arms: ['think_base', 'think_phase3'].map((m) => ({ name: m, baseURL: 'http://127.0.0.1:9/v1', model: m })),
      judge: { baseURL: 'http://127.0.0.1:9/v1', model: 'qwen-judge' },
    });
    const records = simulatedRecords(config, 'warm-up');
    const armOrder = config.arms.map((a) => a.name);
    const names = conditionNames(config.conditions);
    const summary = buildSummary(records.map(scoreRecord), {
      runId: 'warm-up', armOrder, seed: config.seed, conditionOrder: names, interventions: interventionTable(config.conditions),
      judgeAgreement: judgeAgreement(records, { armOrder, seed: config.seed, conditionOrder: names }),
    });
    const html = await renderReportHtml(summary, records, { truth: Object.fromEntries(ROWS.map((r) => [r.id, r.suffix])), prefixText: Object.fromEntries(ROWS.map((r) => [r.id, r.prefix])) });
    return { ms: Date.now() - t0, htmlBytes: html.length, charts: (html.match(/<svg/g) ?? []).length };
  } catch (e) {
    // Only a warm-up: the first real report says what is wrong, if anything is.
    return { ms: Date.now() - t0, error: e instanceof Error ? e.message : String(e) };
  }
}
