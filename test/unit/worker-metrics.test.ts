import OpenAI from 'openai';
import { callEndpoint, type Endpoint } from '../../src/activities/classify';
import { PrometheusRequestMetrics } from '../../src/metrics';

const ep: Endpoint = { role: 'judge', baseURL: 'http://127.0.0.1:9/v1', model: 'qwen-judge', field: 'judge' };
const apiError = (status: number) => OpenAI.APIError.generate(status, { error: { message: `simulated ${status}` } }, undefined, new Headers());

test('each request is counted once by outcome, timed, and out of flight when it ends', async () => {
  const m = new PrometheusRequestMetrics();
  m.cap(ep, 4);
  await callEndpoint(ep, async () => 'fine', m);
  await callEndpoint(ep, async () => '{"score": 1}', m, (r) => r.includes('score'));
  await callEndpoint(ep, async () => 'I cannot say', m, (r) => r.includes('score'));
  for (const status of [503, 429, 400, 401]) await expect(callEndpoint(ep, () => Promise.reject(apiError(status)), m)).rejects.toThrow();
  await expect(callEndpoint(ep, () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), m)).rejects.toThrow();
  m.stored('think_base', 'records');
  const text = await m.registry.metrics();
  const count = (outcome: string) => Number(new RegExp(`thought_probe_requests_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
  expect({ ok: count('ok'), invalid: count('invalid_judgment'), retryable: count('retryable'), rateLimited: count('rate_limited'), fatal: count('fatal') })
    .toEqual({ ok: 2, invalid: 1, retryable: 2, rateLimited: 1, fatal: 2 });
  expect(text).toMatch(/thought_probe_request_duration_seconds_count\{role="judge",model="qwen-judge",endpoint="http:\/\/127.0.0.1:9\/v1"\} 8/);
  expect(text).toMatch(/thought_probe_requests_in_flight\{[^}]*\} 0/);
  expect(text).toMatch(/thought_probe_request_cap\{[^}]*\} 4/);
  expect(text).toMatch(/thought_probe_stored_results_total\{arm="think_base",kind="records"\} 1/);
});
