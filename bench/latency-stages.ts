import type pg from 'pg';
import { percentile, round } from './bench-env.ts';

/**
 * Where a change's latency goes, read from the bench database itself: a trigger on sync_dirty
 * stamps (with the server's clock, which is this machine's) when the relay marked each member
 * dirty and when the worker cleared the mark. It costs one small insert per mark and per clear.
 */
export const STAGE_STAMPS_SQL = `
CREATE TABLE bench_stage_stamps (contact_id text NOT NULL, stage text NOT NULL, at double precision NOT NULL);
CREATE FUNCTION bench_stage_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bench_stage_stamps VALUES (
    CASE WHEN TG_OP = 'DELETE' THEN OLD.contact_id ELSE NEW.contact_id END,
    CASE WHEN TG_OP = 'DELETE' THEN 'cleared' ELSE 'marked' END,
    extract(epoch FROM clock_timestamp()) * 1000);
  RETURN NULL;
END $$;
CREATE TRIGGER bench_stage_stamp AFTER INSERT OR UPDATE OR DELETE ON sync_dirty
  FOR EACH ROW EXECUTE FUNCTION bench_stage_stamp();`;

/** p50/p95/p99 in ms of each stage. */
export interface StageBreakdown {
  /** Commit → the relay's dirty mark (NOTIFY, claim). */
  commitToMark: number[];
  /** Mark → the API call's arrival (batch window, queue, waiting for the group's running job). */
  markToCall: number[];
  /** Arrival → mark cleared (the rest of the chunk's calls, then the state writes). */
  callToCleared: number[];
}

const summary = (xs: number[]): number[] => {
  const sorted = [...xs].sort((a, b) => a - b);
  return [50, 95, 99].map((p) => round(percentile(sorted, p), 1));
};

export async function stageBreakdown(
  db: pg.Pool,
  committedAt: readonly number[],
  arrivedAt: ReadonlyMap<number, number>,
): Promise<StageBreakdown> {
  const res = await db.query<{ contact_id: string; stage: string; at: number }>(
    'SELECT contact_id, stage, at FROM bench_stage_stamps ORDER BY at',
  );
  const marked = new Map<string, number>();
  const cleared = new Map<string, number>();
  for (const r of res.rows) {
    if (r.stage === 'marked' && !marked.has(r.contact_id)) marked.set(r.contact_id, r.at);
    if (r.stage === 'cleared') cleared.set(r.contact_id, r.at);
  }
  const stages: StageBreakdown = { commitToMark: [], markToCall: [], callToCleared: [] };
  committedAt.forEach((committed, k) => {
    const mark = marked.get(`c${k}`);
    const call = arrivedAt.get(k);
    const clear = cleared.get(`c${k}`);
    if (mark === undefined || call === undefined || clear === undefined) return;
    stages.commitToMark.push(mark - committed);
    stages.markToCall.push(call - mark);
    stages.callToCleared.push(clear - call);
  });
  return {
    commitToMark: summary(stages.commitToMark),
    markToCall: summary(stages.markToCall),
    callToCleared: summary(stages.callToCleared),
  };
}
