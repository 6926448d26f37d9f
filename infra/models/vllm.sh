#!/usr/bin/env bash
# Serves one of the note's arms or its judge with vLLM, as examples/phase4b.yaml expects it:
#   bash infra/models/vllm.sh think_base /ckpt/think_base        (on the arm's GPU host)
#   bash infra/models/vllm.sh qwen-judge /ckpt/qwen-judge        (on the judge's host)
# PORT, MAX_SEQS, CONTEXT and SEED override the defaults in endpoints.sh; DRY_RUN=1 prints the command.
# Seeds: vLLM honours the OpenAI `seed` field per request (its own sampler per seeded request), so a rerun asks for
# the same draw; --seed seeds the rest. Arms are served for raw completions (/v1/completions, no chat template),
# the judge for chat (/v1/chat/completions with the checkpoint's chat template).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: vllm.sh ENDPOINT CHECKPOINT [extra vllm serve flags]" >&2; exit 2; }
name=$1 checkpoint=$2
shift 2
# shellcheck source=infra/models/endpoints.sh
. "$(dirname "${BASH_SOURCE[0]}")/endpoints.sh"
port=${PORT:-} seqs=${MAX_SEQS:-} context=${CONTEXT:-}
endpoint "$name"
PORT=${port:-$PORT} MAX_SEQS=${seqs:-$MAX_SEQS} CONTEXT=${context:-$CONTEXT}
cmd=(vllm serve "$checkpoint" --served-model-name "$name" --host 0.0.0.0 --port "$PORT"
  --max-num-seqs "$MAX_SEQS" --max-model-len "$CONTEXT" --seed "$SEED" --generation-config vllm "$@")
echo "set maxConcurrency: $MAX_SEQS for $name in the config (arms[].maxConcurrency or judge.maxConcurrency)" >&2
if [ -n "${DRY_RUN:-}" ]; then printf '%q ' "${cmd[@]}"; echo; else exec "${cmd[@]}"; fi
