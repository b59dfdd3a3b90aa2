import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { createEngineAdapterFactory } from './engine-adapter.ts';
import { migrationsDirOf, PRISMA_DIR, readMigrations } from './migrations-folder.ts';
import { withThrowawayDatabase } from './throwaway-database.ts';

/** What the migrations build, compared with what schema.prisma describes. */
export interface SchemaDiff {
  /** True when applying the migrations does not give schema.prisma's tables and columns. */
  drift: boolean;
  /** The SQL that would take the migrated database to schema.prisma (Prisma's migration text). */
  sql: string;
}

export interface DiffOptions {
  /** Only its server is used: a throwaway database is created there and dropped after. */
  databaseUrl: string;
  /** A folder holding schema.prisma and migrations/; defaults to the project's prisma/. */
  prismaDir?: string;
  log?: (line: string) => void;
}

/**
 * Replays prisma/migrations into a throwaway database with Prisma's own schema engine (its wasm
 * build, offline) and diffs the result against schema.prisma — what `prisma migrate diff
 * --from-migrations --to-schema-datamodel --script --exit-code` does where the engine binary runs.
 */
export async function diffMigrationsToSchema(opts: DiffOptions): Promise<SchemaDiff> {
  const prismaDir = opts.prismaDir ?? PRISMA_DIR;
  const log = opts.log ?? (() => undefined);
  const schemaPath = join(prismaDir, 'schema.prisma');
  const schema = { path: schemaPath, content: await readFile(schemaPath, 'utf8') };
  const migrations = await migrationList(migrationsDirOf(prismaDir));
  const wasm = await loadSchemaEngine();

  return withThrowawayDatabase(
    opts.databaseUrl,
    async (shadowUrl) => {
      const adapters = createEngineAdapterFactory(opts.databaseUrl, shadowUrl);
      let engine: SchemaEngine | undefined;
      try {
        engine = await wasm.guard(() =>
          wasm.SchemaEngine.new(
            { datamodels: [[schema.path, schema.content]] },
            (line: string) => log(`schema engine: ${line.trim()}`),
            bindMigrationAwareSqlAdapterFactory(adapters.factory),
          ),
        );
        const created = engine;
        const result = await wasm.guard(() =>
          created.diff({
            from: { tag: 'migrations', ...migrations },
            to: { tag: 'schemaDatamodel', files: [schema] },
            script: true,
            exitCode: true,
            filters: { externalTables: [], externalEnums: [] },
          }),
        );
        return { drift: result.exitCode !== 0, sql: result.stdout ?? '' };
      } finally {
        engine?.free();
        await adapters.close();
      }
    },
    log,
  );
}

/** The migrations folder in the shape the engine reads: every file already loaded. */
async function migrationList(migrationsDir: string): Promise<MigrationList> {
  const lockPath = join(migrationsDir, 'migration_lock.toml');
  const lockfile = await readFile(lockPath, 'utf8').catch(() => null);
  if (lockfile === null) {
    throw new Error(`${lockPath} is missing: the schema engine reads the provider from it`);
  }
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: lockfile },
    shadowDbInitScript: '',
    migrationDirectories: (await readMigrations(migrationsDir)).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
  };
}

interface LoadedEngine {
  SchemaEngine: typeof glue.SchemaEngine;
  /** Runs an engine call; a Rust panic comes back as an Error carrying the panic's message. */
  guard: <T>(call: () => Promise<T>) => Promise<T>;
}

let loaded: Promise<LoadedEngine> | undefined;

/** The part of the WebAssembly global used here; lib ES2023 without DOM does not declare it. */
interface WebAssemblyApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/**
 * Instantiates the engine's wasm beside its JS glue, once per process (the glue holds one
 * module-level instance). The glue's setTimeout is wrapped so the engine's 10 s timer does not
 * keep node alive, and a panic registry is installed so panics say what went wrong.
 */
function loadSchemaEngine(): Promise<LoadedEngine> {
  loaded ??= (async () => {
    const wasmUrl = new URL(
      'schema_engine_bg.wasm',
      import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg'),
    );
    const imports: Record<string, unknown> = { ...glue };
    for (const [key, fn] of Object.entries(glue)) {
      if (key.startsWith('__wbg_setTimeout_') && typeof fn === 'function') {
        imports[key] = (...args: unknown[]) => {
          const timer = (fn as (...a: unknown[]) => unknown)(...args);
          (timer as Partial<NodeJS.Timeout> | undefined)?.unref?.();
          return timer;
        };
      }
    }
    const { instance } = await webAssembly.instantiate(await readFile(wasmUrl), {
      './schema_engine_bg.js': imports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();

    let panic: string | undefined;
    (globalThis as Record<string, unknown>)['PRISMA_WASM_PANIC_REGISTRY'] = {
      set_message: (message: string) => {
        panic = message;
      },
    };
    const guard = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (err) {
        if (panic === undefined) throw err;
        const message = panic;
        panic = undefined;
        throw new Error(`Prisma's schema engine panicked: ${message}`, { cause: err });
      }
    };
    return { SchemaEngine: glue.SchemaEngine, guard };
  })();
  return loaded;
}
