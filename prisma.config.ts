import { defineConfig } from 'prisma/config';

// `prisma generate` needs no database. DATABASE_URL is used by Prisma's own migrate commands on a
// machine that can run its schema engine; here `afilnet-sync migrate` applies migrations.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
});
