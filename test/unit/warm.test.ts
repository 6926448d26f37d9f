import { warmReports } from '../../src/workers/warm';

// The worker's warm-up swallows its errors (it is only a warm-up), so this test is what notices when its tiny
// run stops being a valid config or its report stops rendering.
test('the warm-up builds a tiny run summary and renders its report.html, charts included', async () => {
  const r = await warmReports();
  expect(r.error).toBeUndefined();
  expect(r.htmlBytes).toBeGreaterThan(10_000);
  expect(r.charts).toBeGreaterThanOrEqual(4);
}, 60_000);
