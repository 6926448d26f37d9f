# The note's endpoints as examples/phase4b.yaml names them: served model name, port, most sequences at once
# (the server's batch; the config's maxConcurrency for that endpoint should equal it) and context length.
# Sourced by vllm.sh and sglang.sh; checked against examples/phase4b.yaml by test/unit/deploy.test.ts.
# Context: a prefix of a few hundred tokens + a 48-token thought + a 128-token suffix; the judge sees the prefix,
# two continuations (each cut to 2,000 characters) and its instructions, and answers in at most 64 tokens.
# shellcheck shell=bash
endpoint() {
  case $1 in
    #                    port         max sequences   context length (tokens)
    think_base)          PORT=8000;   MAX_SEQS=16;    CONTEXT=4096 ;;
    think_phase3)        PORT=8000;   MAX_SEQS=16;    CONTEXT=4096 ;;
    think_base_rlmt)     PORT=8000;   MAX_SEQS=16;    CONTEXT=4096 ;;
    think_phase3_rlmt)   PORT=8000;   MAX_SEQS=16;    CONTEXT=4096 ;;
    qwen-judge)          PORT=30000;  MAX_SEQS=32;    CONTEXT=8192 ;;
    *) echo "error: unknown endpoint '$1': one of think_base, think_phase3, think_base_rlmt, think_phase3_rlmt, qwen-judge" >&2; return 1 ;;
  esac
  # The run's seed (the note's 4337): requests carry their own seeds derived from it; this seeds the server itself.
  SEED=${SEED:-4337}
}
