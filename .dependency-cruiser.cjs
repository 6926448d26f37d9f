// Import rules between the folders of src/, one rule per folder README (its first paragraph says what the folder
// may import). `npm run lint` runs `depcruise src` with this file; a new import across a line fails it.
// Each rule forbids, from one folder, imports of src/ paths outside the ones its README allows. External packages
// are named where a README restricts them (codec, errors, experiment, view, the scheduler). src/cli may import anything.

/** A rule: from `folder`, only `allowed` (regexes on paths under src/, the folder itself always allowed). */
function only(folder, allowed, comment, extra = {}) {
  const own = `^src/${folder}/`;
  return {
    name: `${folder.replace(/\//g, '-')}-imports`,
    comment,
    severity: 'error',
    from: { path: own },
    to: {
      path: '^src/',
      pathNot: [own, ...allowed.map((a) => `^src/${a}`)],
      ...extra,
    },
  };
}

/** From `folder`, no npm package outside `packages` (regexes on the module name as resolved under node_modules). */
function packagesOnly(folder, packages, comment) {
  return {
    name: `${folder.replace(/\//g, '-')}-packages`,
    comment,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: {
      dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
      dependencyTypesNot: ['type-only'],
      pathNot: packages.map((p) => `node_modules/${p}`),
    },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: break it (a shared module, or types in a module of their own).',
      severity: 'error',
      from: { path: '^src/' },
      // A cycle through a type-only import is gone at run time; the rest are real.
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    only('activities', ['workflows/', 'experiment/', 'config/', 'errors/', 'report/', 'metrics/requests', 'store/', 'sim/shapes'],
      'activities: experiment, config, errors, report, store, metrics/requests, the simulation fingerprint and workflow types (import type) only.'),
    {
      name: 'activities-workflow-code',
      comment: 'activities may import types from workflows (import type), never workflow code.',
      severity: 'error',
      from: { path: '^src/activities/' },
      to: { path: '^src/workflows/', dependencyTypesNot: ['type-only'] },
    },
    only('codec', ['errors/'], 'codec: errors only (and @temporalio/{common,proto}).'),
    packagesOnly('codec', ['@temporalio/common', '@temporalio/proto'], 'codec: @temporalio/{common,proto} only.'),
    only('config', ['experiment/'], 'config: experiment only.'),
    only('diagnose', ['errors/', 'replay/', 'codec/', 'workflows/api'], 'diagnose: errors, replay, codec and the workflow API types; never cli.'),
    only('errors', [], 'errors: nothing else in src/ (it is imported by workflows).'),
    packagesOnly('errors', ['@temporalio/common'], 'errors: @temporalio/common only.'),
    only('experiment', ['config/schema'], 'experiment: nothing outside itself but types from config/schema.', { dependencyTypesNot: ['type-only'] }),
    {
      name: 'experiment-config',
      comment: 'experiment: types from config/schema only (import type).',
      severity: 'error',
      from: { path: '^src/experiment/' },
      to: { path: '^src/config/', dependencyTypesNot: ['type-only'] },
    },
    packagesOnly('experiment', ['zod'], 'experiment is pure: zod (the record schema) and nothing else.'),
    only('metrics', [], 'metrics: nothing else in src/.'),
    only('replay', ['codec/'], 'replay: codec only.'),
    only('report', ['experiment/', 'config/jsonl'], 'report: experiment, and config/jsonl to read samples.jsonl.'),
    only('sim', ['config/', 'experiment/'], 'sim: config and experiment only.'),
    only('store', ['config/schema', 'errors/'], 'store: config/schema and errors only.'),
    only('view', ['store/', 'report/', 'experiment/', 'config/'], 'view: store, report, experiment and config; never Temporal.'),
    {
      name: 'view-temporal',
      comment: 'view never talks to Temporal (the CLI gives it the run catalog).',
      severity: 'error',
      from: { path: '^src/view/' },
      to: { path: 'node_modules/@temporalio/' },
    },
    only('workers', ['activities/', 'config/', 'codec/', 'report/', 'workflows/', 'metrics/', 'errors/'],
      'workers: activities, config, codec, report, metrics, errors and workflows (by path, for bundling).'),
    only('workflows', ['experiment/', 'errors/', 'config/schema', 'config/validate', 'activities/'],
      'workflows: experiment, errors, config/schema, config/validate and activity types only.'),
    only('workflows/schedule', ['experiment/'], 'the scheduler: experiment, and types from anywhere (import type).', { dependencyTypesNot: ['type-only'] }),
    packagesOnly('workflows/schedule', [], 'the scheduler is pure: no packages.'),
    {
      name: 'workflows-activity-code',
      comment: 'workflows import activity types only (import type): activity code is not replayed.',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: { path: '^src/activities/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
