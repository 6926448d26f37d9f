// The rules of `thought-probe debug`: from what was read (./read), what to do next, as exact commands. Failures
// are told apart by their type and their facts (src/errors), not by their messages.
import { isFatal } from '../errors';
import { endpointOf, isWrapper, rootCause, type FailureLink } from './failure';
import type { WorkflowDiagnosis } from './read';

/** One thing to do: why, and the commands that do it. */
export interface Advice {
  why: string;
  commands: string[];
}

/** Quotes a shell word when it needs it (activity ids hold `#` and `+`). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function hasDetails(l: FailureLink): boolean {
  return l.facts !== undefined || l.problems !== undefined;
}

/** The failure that ended the run for good, if one did. */
function fatalLink(links: FailureLink[]): FailureLink | undefined {
  return (
    links.find((l) => isFatal(l.type) && !isWrapper(l.type)) ??
    // Histories older than the one error hierarchy: an ArmFailed without its cause and no details, whose message
    // alone tells the 401, 403 or 404.
    links.find((l) => !hasDetails(l) && /: (401|403|404)\b/.test(l.message))
  );
}

/** The config field an endpoint is set by: `judge` or `arms[name=x]`. */
function endpointField(link: FailureLink, role: string | undefined): string | undefined {
  const f = link.facts?.field?.replace(/\.(model|apiKeyEnv|baseURL)$/, '');
  if (f) return f;
  if (!role) return undefined;
  return role === 'judge' ? 'judge' : `arms[name=${role.replace(/^arm /, '')}]`;
}

function fatalAdvice(runId: string, link: FailureLink, closed: boolean): Advice {
  const reuse = `start a new run that reuses every stored generation${closed ? '' : ' (once this run has failed)'}:`;
  const facts = link.facts ?? {};
  const ep = endpointOf(link);
  if (link.type === 'MissingApiKeyError' && facts.envVar) {
    const where = ep ? ` for the ${ep.role} endpoint ${ep.baseURL} (model "${ep.model}")` : '';
    return {
      why:
        `worker ${facts.worker ?? '?'} has no ${facts.envVar}, the API key that ${facts.field ?? 'apiKeyEnv'} names${where}; ` +
        `export ${facts.envVar} where that worker runs and restart it (\`thought-probe worker\`, with its --task-queue flags), then ${reuse}`,
      commands: [`export ${facts.envVar}=...`, `thought-probe resume ${runId}`],
    };
  }
  if (link.type === 'InternalError') {
    return {
      why:
        `a bug in thought-probe ended the run (${link.message.slice(0, 300)}); it is not an outage and no config fixes it. ` +
        `Report it with this debug output (the JSON below keeps every failure with its details); once the workers run a fixed version, ${reuse}`,
      commands: [`thought-probe debug ${runId} --json > debug-${runId}.json`, `thought-probe resume ${runId}`],
    };
  }
  if (link.type === 'InvalidConfig') {
    const problems = link.problems?.length ? `: ${link.problems.join('; ')}` : '';
    return {
      why: `the run's config is invalid${problems}; fix the config and check it, then ${reuse}`,
      commands: ['thought-probe config check FIXED.yaml', `thought-probe resume ${runId} --config FIXED.yaml`],
    };
  }
  if (link.type === 'FatalEndpointError' || (!hasDetails(link) && ep)) {
    const field = endpointField(link, ep?.role);
    const what = ep
      ? `the ${ep.role} endpoint ${ep.baseURL} rejected model "${ep.model}"${ep.status ? ` with ${ep.status}` : ''} for good`
      : 'an endpoint rejected the requests for good';
    const fix =
      ep?.status === 401 || ep?.status === 403
        ? `set the API key named by ${field}.apiKeyEnv`
        : ep
          ? `fix ${field}.model (or ${field}.baseURL) in the config: \`curl ${ep.baseURL.replace(/\/+$/, '')}/models\` lists what it serves`
          : 'fix the config';
    return { why: `${what}; ${fix}, then ${reuse}`, commands: [`thought-probe resume ${runId} --config FIXED.yaml`] };
  }
  // Any other error of ours that ends the run names its fix and, when the config holds it, the field.
  const fix = [facts.field ? `fix ${facts.field}` : '', facts.fix ?? ''].filter(Boolean).join(': ');
  return {
    why: `${link.type ?? link.kind}: ${link.message.slice(0, 300)}${fix ? `; ${fix}` : ''}; then ${reuse}`,
    commands: [facts.field ? `thought-probe resume ${runId} --config FIXED.yaml` : `thought-probe resume ${runId}`],
  };
}

/** Picks what to do next from what was found, with exact commands. */
export function advise(runId: string, workflows: WorkflowDiagnosis[], polling?: boolean): Advice[] {
  const advice: Advice[] = [];
  const run = workflows[0]!;
  const links = workflows.flatMap((w) => [...w.failure, ...w.failedActivities.flatMap((a) => a.failure)]);
  const fatal = fatalLink(links);
  const closed = run.status !== 'RUNNING';
  if (fatal) advice.push(fatalAdvice(runId, fatal, closed));
  for (const w of workflows) {
    const open = w.workflowTaskFailures.filter((f) => !f.resolved);
    const nd = open.find((f) => f.nondeterminism);
    if (nd) {
      const reset =
        nd.resetEventId !== undefined && !nd.resetIsLast
          ? `--event-id ${nd.resetEventId}`
          : '--type LastWorkflowTask';
      advice.push({
        why:
          `${w.workflowId} is stuck: the workflow code the workers run no longer matches its history at event ${nd.nondeterminism!.eventId ?? '?'}. ` +
          'Either deploy code that replays it (revert the change, or guard it with patched()), check with replay, and restart the workers: the stuck task is retried and the run continues; ' +
          `or reset it to the last workflow task before that event${nd.resetEventId !== undefined ? ` (event ${nd.resetEventId})` : ''}, so that the new code takes over from there (later activities are scheduled again; stored generations are reused):`,
        commands: [
          `thought-probe replay --run ${runId}`,
          `temporal workflow reset --workflow-id ${shellWord(w.workflowId)} ${reset} --reason ${shellWord('workflow code changed')}`,
        ],
      });
    } else if (open.length) {
      advice.push({
        why: `${w.workflowId}: its workflow code throws (${open[0]!.message.slice(0, 200)}); fix it and restart the workers (\`thought-probe worker\`), the task is retried:`,
        commands: [`thought-probe replay --run ${runId}`],
      });
    }
    for (const p of w.pendingActivities.filter((a) => a.paused)) {
      advice.push({ why: `activity ${p.activityId} of ${w.workflowId} is paused; once its endpoint works, unpause it:`, commands: [`temporal activity unpause --workflow-id ${shellWord(w.workflowId)} --activity-id ${shellWord(p.activityId)}`] });
    }
    const retrying = w.pendingActivities.filter((a) => !a.paused && a.lastFailure && a.attempt > 1);
    if (retrying.length) {
      // Name the endpoint of an activity that failed on it; a worker shutdown says nothing about endpoints.
      const onEndpoint = retrying.find((a) => endpointOf(a.lastFailure![0]!)) ?? retrying[0]!;
      const ep = endpointOf(onEndpoint.lastFailure![0]!);
      advice.push({
        why: `${retrying.length} activities of ${w.workflowId} are retrying (${onEndpoint.activityId} at attempt ${onEndpoint.attempt}); Temporal retries them until the endpoint answers (no work is lost) — wait, and check the endpoint${ep ? ` ${ep.baseURL}` : ''}:`,
        commands: [ep ? `curl ${ep.baseURL.replace(/\/+$/, '')}/models` : `thought-probe status ${runId}`],
      });
    }
  }
  const paused = workflows.flatMap((w) => w.pausedArms);
  if (paused.length && !closed) {
    advice.push({
      why: `arm ${paused.map((p) => `${p.arm} (${p.endpoint} down since ${p.since})`).join(', ')} exceeded its outage budget and is paused with its work kept; once the endpoint is back:`,
      commands: [`thought-probe resume ${runId}`],
    });
  }
  if (!closed && polling === false) {
    advice.push({ why: `no worker polls task queue ${run.taskQueue}; start one:`, commands: ['thought-probe worker'] });
  }
  if (advice.length === 0) {
    if (run.status === 'COMPLETED') advice.push({ why: 'the run completed; its report:', commands: [`thought-probe result ${runId}`] });
    else if (run.status === 'RUNNING') advice.push({ why: 'nothing is wrong that Temporal shows; follow it:', commands: [`thought-probe status ${runId}`] });
    else {
      const root = rootCause(run.failure);
      const because = root ? ` (${root.type ?? root.kind}: ${root.message.slice(0, 200)})` : '';
      advice.push({ why: `the run is ${run.status}${because}; start a new run that reuses its stored work:`, commands: [`thought-probe resume ${runId}`] });
    }
  }
  return advice;
}
