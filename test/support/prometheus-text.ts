/** One sample line of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const VALUE = '[-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN)';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (${VALUE})(?: -?[0-9]+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
const SUFFIXES = ['_bucket', '_sum', '_count', '_created', '_total', '_info'];

function parseLabels(text: string): Record<string, string> | string {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) return `bad label list {${text}}`;
    const [whole, key = '', raw = ''] = m;
    if (key in labels) return `label ${key} repeated`;
    labels[key] = raw.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    rest = rest.slice(whole.length);
  }
  return labels;
}

/** The metric family a sample belongs to: its own name if declared, else the name less a suffix. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const suffix = SUFFIXES.find((s) => name.endsWith(s) && types.has(name.slice(0, -s.length)));
  return suffix ? name.slice(0, -suffix.length) : undefined;
}

/**
 * A small validator of the Prometheus text exposition format (0.0.4): every line is a HELP, a TYPE
 * or a sample; names and label sets are well formed; each sample belongs to a family whose TYPE
 * came first; no family is declared twice. Returns the samples and every problem found.
 */
export function parsePrometheusText(text: string): { samples: Sample[]; errors: string[] } {
  const samples: Sample[] = [];
  const errors: string[] = [];
  const types = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line === '' || HELP_LINE.test(line)) return;
    const type = TYPE_LINE.exec(line);
    if (type) {
      const [, name = '', kind = ''] = type;
      if (types.has(name)) errors.push(`${where}: TYPE of ${name} declared twice`);
      types.set(name, kind);
      return;
    }
    if (line.startsWith('#')) return errors.push(`${where}: unknown comment form: ${line}`);
    const m = SAMPLE_LINE.exec(line);
    if (!m) return errors.push(`${where}: not a sample: ${line}`);
    const [, name = '', labelText = '', valueText = ''] = m;
    if (familyOf(name, types) === undefined) errors.push(`${where}: ${name} has no TYPE before it`);
    const labels = parseLabels(labelText);
    if (typeof labels === 'string') return errors.push(`${where}: ${labels}`);
    const value = valueText.endsWith('Inf')
      ? valueText.startsWith('-')
        ? -Infinity
        : Infinity
      : Number(valueText);
    samples.push({ name, labels, value });
  });
  return { samples, errors };
}

/** The sum of every sample named `name` whose labels include `match`. */
export function sumOf(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}
