#!/usr/bin/env bash
# Serves one of the note's arms or its judge with SGLang, as examples/phase4b.yaml expects it:
#   bash infra/models/sglang.sh think_base /ckpt/think_base
#   bash infra/models/sglang.sh qwen-judge /ckpt/qwen-judge
# PORT, MAX_SEQS, CONTEXT and SEED override the defaults in endpoints.sh; DRY_RUN=1 prints the command.
# Seeds: SGLang takes the OpenAI `seed` field per request as its sampling seed only with deterministic inference
# on (--enable-deterministic-inference, which costs some throughput); without it a rerun draws anew. --random-seed
# seeds the server.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: sglang.sh ENDPOINT CHECKPOINT [extra launch_server flags]" >&2; exit 2; }
name=$1 checkpoint=$2
shift 2
# shellcheck source=infra/models/endpoints.sh
. "$(dirname "${BASH_SOURCE[0]}")/endpoints.sh"
port=${PORT:-} seqs=${MAX_SEQS:-} context=${CONTEXT:-}
endpoint "$name"
PORT=${port:-$PORT} MAX_SEQS=${seqs:-$MAX_SEQS} CONTEXT=${context:-$CONTEXT}
cmd=(python -m sglang.launch_server --model-path "$checkpoint" --served-model-name "$name" --host 0.0.0.0 --port "$PORT"
  --max-running-requests "$MAX_SEQS" --context-length "$CONTEXT" --random-seed "$SEED" --enable-deterministic-inference "$@")
echo "set maxConcurrency: $MAX_SEQS for $name in the config (arms[].maxConcurrency or judge.maxConcurrency)" >&2
if [ -n "${DRY_RUN:-}" ]; then printf '%q ' "${cmd[@]}"; echo; else exec "${cmd[@]}"; fi
