import type pg from 'pg';

/** A pool or a checked-out client: state writes run alone or inside a caller's transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;
