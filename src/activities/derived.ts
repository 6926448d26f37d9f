import { thoughtKey } from '../experiment/keys';
import { deriveThought, sourceArm, type InterventionSpec } from '../experiment/interventions';
import { MissingStoredInputError, SourceThoughtFailedError } from '../errors';
import type { RunStore } from '../store';

/** A stored thought as a derived thought needs it. */
interface StoredThought {
  thought: string;
  closedThought: boolean;
}

/** The thought a suffix is conditioned on under a configured intervention, and where it came from. */
export interface DerivedThought {
  thought: string;
  closedThought: boolean;
  /** Set when the thought came from another arm. */
  thoughtSource: { arm: string; prefixId: string; sample: number } | null;
}

// How often a transplant waiting for another arm's thought looks at the store (other processes may write it).
const POLL_MS = 250;

/**
 * Waits until the store holds the thought of (arm, key), or a mark that its generation failed for that sample.
 * Another workflow (the other arm's child) makes it, at about the same time as this arm's own thought of the slot.
 */
async function awaitThought(store: RunStore, arm: string, key: string, signal: AbortSignal): Promise<StoredThought | { failed: string }> {
  for (;;) {
    const t = await store.get<StoredThought>(arm, 'thoughts', key);
    if (t) return t;
    const f = await store.get<{ error: string }>(arm, 'failures', key);
    if (f) return { failed: f.error };
    if (signal.aborted) throw signal.reason ?? new Error('activity cancelled');
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      const off = store.onStored((a, kind, k) => {
        if (a === arm && k === key && (kind === 'thoughts' || kind === 'failures')) done();
      });
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * The thought of slot (prefix, sample) under an intervention that derives it from a stored thought: the arm's own
 * thought of the slot, or for a transplant the other arm's (waited for). A missing own thought is a store fault;
 * another arm's thought that failed for this sample fails this sample too.
 */
export async function derivedThought(
  store: RunStore,
  spec: InterventionSpec,
  slot: { runSeed: number; arm: string; prefixId: string; prefixIndex: number; sample: number },
  signal: AbortSignal,
  worker: string,
): Promise<DerivedThought> {
  const from = sourceArm(spec, slot.arm);
  const key = thoughtKey(slot.prefixId, slot.sample);
  let t: StoredThought;
  if (spec.intervention === 'paraphrased_thought') {
    // The schedule makes this suffix ready once the paraphrase is stored; closedThought is the own thought's.
    const [own, para] = await Promise.all([
      store.get<StoredThought>(slot.arm, 'thoughts', key),
      store.get<{ thought: string }>(slot.arm, 'paraphrases', `${key}/${spec.name}`),
    ]);
    if (!own) throw new MissingStoredInputError(`thought ${key} of arm ${slot.arm}`, worker);
    if (!para) throw new MissingStoredInputError(`paraphrase ${key}/${spec.name} of arm ${slot.arm}`, worker);
    return { thought: para.thought, closedThought: own.closedThought, thoughtSource: null };
  }
  if (from === slot.arm) {
    const own = await store.get<StoredThought>(from, 'thoughts', key);
    if (!own) throw new MissingStoredInputError(`thought ${key} of arm ${from}`, worker);
    t = own;
  } else {
    const got = await awaitThought(store, from, key, signal);
    if ('failed' in got) throw new SourceThoughtFailedError(`the thought ${key} of arm ${from} that ${spec.name} transplants failed: ${got.failed}`);
    t = got;
  }
  return {
    thought: deriveThought(spec, t.thought, { runSeed: slot.runSeed, arm: slot.arm, prefixIndex: slot.prefixIndex, sample: slot.sample }),
    closedThought: t.closedThought,
    thoughtSource: from === slot.arm ? null : { arm: from, prefixId: slot.prefixId, sample: slot.sample },
  };
}
