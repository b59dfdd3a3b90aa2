import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

/**
 * A Prisma 7 client over the public contract and the sync tables, through the pg driver adapter
 * (no Rust engine). For code and integrations that prefer typed models to SQL; the capture
 * triggers see its writes like any other writer's.
 */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

export type { PrismaClient };
