/**
 * Who already holds a main value in a group, as the database knew it when a chunk was read: a
 * member whose remote copy carries the value (synced or maybe synced).
 */
export interface MainClaim {
  holder: string;
  /** The holder is leaving the group or changing its main value: the value will be freed. */
  departing: boolean;
  /**
   * The departing holder is taking the candidate's own current value: the two wait on each
   * other (a swap), wherever the holder's mark is read.
   */
  holderTakesMine?: boolean;
  /**
   * The holder's copy is not confirmed (an add of unknown outcome, a member waiting for a link's
   * look-up) and the holder wants this very value too: two members claim one value and neither
   * is known to have it. The smaller id wins, wherever each one's mark is read.
   */
  contested?: boolean;
}

/** A planned call that would make a member's remote copy carry `main`. */
export interface MainCandidate {
  contactId: string;
  main: string;
}

export type Admission =
  | { kind: 'go' }
  /** Another member still holds the value and is giving it up: try after it has. */
  | { kind: 'wait'; holder: string }
  | { kind: 'duplicate'; holder: string }
  /**
   * Members waiting on each other in a cycle (two members swapping numbers): this one gives its
   * value up first, by deleting its remote copy; it is added again afterwards.
   */
  | { kind: 'release' };

/**
 * Decides, for every call that would put a main value on a remote contact, whether it may go
 * now. Two members of one group with the same main field would share one remote contact (the
 * provider refuses the second with CONTACT_EXISTS), so: a value held by a departing member is
 * waited for (the hand-over of a number from one member to another), a value held by a staying
 * member or claimed earlier in the same chunk is a duplicate. Pure; candidates are judged in
 * order, so the first claim in a chunk wins.
 */
export function admitMainValues(
  candidates: readonly MainCandidate[],
  claims: ReadonlyMap<string, MainClaim>,
): Map<string, Admission> {
  const out = new Map<string, Admission>();
  const releasing = cycleBreakers(candidates, claims);
  const claimedInChunk = new Map<string, string>();
  for (const op of candidates) {
    const claim = claims.get(op.contactId);
    if (releasing.has(op.contactId)) {
      out.set(op.contactId, { kind: 'release' });
      continue;
    }
    if (claim?.departing) {
      out.set(op.contactId, { kind: 'wait', holder: claim.holder });
      continue;
    }
    const lost = claim?.contested === true && claim.holder < op.contactId;
    const held =
      claim !== undefined && (claim.contested !== true || lost) ? claim.holder : undefined;
    const holder = held ?? claimedInChunk.get(op.main);
    if (holder !== undefined && holder !== op.contactId) {
      out.set(op.contactId, { kind: 'duplicate', holder });
      continue;
    }
    claimedInChunk.set(op.main, op.contactId);
    out.set(op.contactId, { kind: 'go' });
  }
  return out;
}

/**
 * In every cycle of members waiting on departing holders that are themselves waiting, the member
 * with the smallest id: releasing it lets the others go.
 */
function cycleBreakers(
  candidates: readonly MainCandidate[],
  claims: ReadonlyMap<string, MainClaim>,
): Set<string> {
  const waitsOn = new Map<string, string>();
  const breakers = new Set<string>();
  const inChunk = new Set(candidates.map((c) => c.contactId));
  for (const op of candidates) {
    const claim = claims.get(op.contactId);
    if (!claim?.departing) continue;
    waitsOn.set(op.contactId, claim.holder);
    // A swap with a member read in another chunk: the smaller id gives its value up.
    if (claim.holderTakesMine && !inChunk.has(claim.holder) && op.contactId < claim.holder) {
      breakers.add(op.contactId);
    }
  }
  const done = new Set<string>();
  for (const start of waitsOn.keys()) {
    const path: string[] = [];
    let at: string | undefined = start;
    while (at !== undefined && !done.has(at) && !path.includes(at)) {
      path.push(at);
      at = waitsOn.get(at);
    }
    if (at !== undefined && path.includes(at)) {
      const cycle = path.slice(path.indexOf(at));
      breakers.add(cycle.reduce((min, id) => (id < min ? id : min)));
    }
    for (const id of path) done.add(id);
  }
  return breakers;
}
