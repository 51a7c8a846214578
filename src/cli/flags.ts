// The one flag parser every `lockstep` command uses (cli.md): node:util
// parseArgs underneath, typed values, each flag also read from the
// environment as LOCKSTEP_<FLAG> (upper case, '-' as '_'), a flag winning over
// the environment. Unknown flags, stray words and missing required flags throw
// UsageError (exit status 2); a known flag with a value it cannot take
// (malformed, out of range, not a choice) throws FlagValueError (exit status 1,
// cli.md: "1 on a failure the user caused (bad flag, ...)").
import { parseArgs } from 'node:util';
import { FlagValueError, UsageError } from './command.js';

interface FlagBase {
  /** One line for --help. */
  description?: string;
  /** Single-letter alias, e.g. 'n'. */
  short?: string;
  /** Not read from LOCKSTEP_<FLAG>: where the variable would mean something else (cli.md: `members add --api/--peer`). */
  flagOnly?: boolean;
}

export interface StringFlag extends FlagBase {
  type: 'string';
  required?: boolean;
  default?: string;
  /** If set, the value must be one of these. */
  choices?: readonly string[];
}

export interface NumberFlag extends FlagBase {
  type: 'number';
  required?: boolean;
  default?: number;
  /** Integers only unless false. */
  integer?: boolean;
  min?: number;
  max?: number;
}

export interface BooleanFlag extends FlagBase {
  type: 'boolean';
  default?: boolean;
}

/** A flag that may be given several times (`--prefix a: --prefix b:`); from the environment, comma-separated. */
export interface ListFlag extends FlagBase {
  type: 'list';
}

export type FlagSpec = StringFlag | NumberFlag | BooleanFlag | ListFlag;
export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<F extends FlagSpec> = F extends NumberFlag
  ? number
  : F extends BooleanFlag
    ? boolean
    : F extends ListFlag
      ? string[]
      : string;
type IsPresent<F extends FlagSpec> = F extends BooleanFlag | ListFlag
  ? true
  : F extends { required: true }
    ? true
    : F extends { default: unknown }
      ? true
      : false;

/** Values keyed by flag name as written in the spec (kebab case): required, defaulted and boolean flags are always present. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S as IsPresent<S[K]> extends true ? K : never]: ValueOf<S[K]>;
} & {
  [K in keyof S as IsPresent<S[K]> extends true ? never : K]?: ValueOf<S[K]>;
};

export interface ParsedCommandLine<S extends FlagSpecs> {
  values: FlagValues<S>;
  /** Words that are not flags, before any `--`. */
  positionals: string[];
  /** Everything after the first `--`, verbatim (e.g. the CMD of `lockstep lock NAME -- CMD`). */
  rest: string[];
  /** The flags typed on the command line (not taken from the environment or a default). */
  given: ReadonlySet<string>;
}

export interface ParseOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Allow positional words (default false: a stray word is a usage error). */
  allowPositionals?: boolean;
}

export const ENV_PREFIX = 'LOCKSTEP_';

/** The environment variable that backs `flag`: 'heartbeat-ms' → LOCKSTEP_HEARTBEAT_MS. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

/** Where a value came from, when it was typed as a flag (else the variable's name, `$LOCKSTEP_...`). */
const FROM_FLAG = 'the value';

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off', '']);

function parseBoolean(flag: string, raw: string, source: string): boolean {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new FlagValueError(`${source} for --${flag} must be true or false, got '${raw}'`);
}

function parseNumber(flag: string, spec: NumberFlag, raw: string, source: string): number {
  const trimmed = raw.trim();
  const n = trimmed === '' ? NaN : Number(trimmed);
  if (!Number.isFinite(n)) throw new FlagValueError(`${source} for --${flag} must be a number, got '${raw}'`);
  if (spec.integer !== false && !Number.isInteger(n)) {
    throw new FlagValueError(`${source} for --${flag} must be an integer, got '${raw}'`);
  }
  if (spec.min !== undefined && n < spec.min) throw new FlagValueError(`${named(flag, source)} must be at least ${spec.min}, got ${n}`);
  if (spec.max !== undefined && n > spec.max) throw new FlagValueError(`${named(flag, source)} must be at most ${spec.max}, got ${n}`);
  return n;
}

function checkString(flag: string, spec: StringFlag, raw: string, source: string): string {
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new FlagValueError(`${named(flag, source)} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
  }
  return raw;
}

/** The flag, or the variable it came from: a user who typed no --ttl-ms must learn that $LOCKSTEP_TTL_MS is set. */
function named(flag: string, source: string): string {
  return source === FROM_FLAG ? `--${flag}` : `${source} for --${flag}`;
}

/** Parse flags, positionals and the words after `--`. */
export function parseCommandLine<S extends FlagSpecs>(
  argv: string[],
  specs: S,
  options: ParseOptions = {},
): ParsedCommandLine<S> {
  const env = options.env ?? process.env;
  const dashDash = argv.indexOf('--');
  const own = joinNegativeNumbers(dashDash === -1 ? argv : argv.slice(0, dashDash), specs);
  const rest = dashDash === -1 ? [] : argv.slice(dashDash + 1);

  const parseArgsOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [flag, spec] of Object.entries(specs)) {
    parseArgsOptions[flag] = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.type === 'list' ? { multiple: true } : {}) };
    if (spec.short) parseArgsOptions[flag].short = spec.short;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: own,
      options: parseArgsOptions,
      strict: true,
      allowPositionals: true,
      allowNegative: true,
    });
  } catch (err) {
    throw new UsageError(parseArgsMessage(err instanceof Error ? err.message : String(err), own, specs));
  }
  if (!options.allowPositionals && parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  }

  const values: Record<string, string | number | boolean | string[]> = {};
  for (const [flag, spec] of Object.entries(specs)) {
    const fromFlag = parsed.values[flag];
    const envVar = envName(flag);
    const fromEnv = spec.flagOnly ? undefined : env[envVar];
    if (spec.type === 'list') {
      const list = Array.isArray(fromFlag) ? fromFlag.filter((x): x is string => typeof x === 'string') : (fromEnv ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0);
      values[flag] = list;
      continue;
    }
    if (Array.isArray(fromFlag)) throw new UsageError(`--${flag} given more than once`);
    if (spec.type === 'boolean') {
      if (typeof fromFlag === 'boolean') values[flag] = fromFlag;
      else if (fromEnv !== undefined) values[flag] = parseBoolean(flag, fromEnv, `$${envVar}`);
      else values[flag] = spec.default ?? false;
      continue;
    }
    // An empty variable counts as unset (LOCKSTEP_DATA= in a unit file is a common way to clear one).
    const raw = typeof fromFlag === 'string' ? fromFlag : fromEnv === '' ? undefined : fromEnv;
    const source = typeof fromFlag === 'string' ? FROM_FLAG : `$${envVar}`;
    if (raw === undefined) {
      if (spec.default !== undefined) values[flag] = spec.default;
      else if (spec.required) throw new UsageError(`missing required flag --${flag}${spec.flagOnly ? '' : ` (or $${envVar})`}`);
      continue;
    }
    values[flag] = spec.type === 'number' ? parseNumber(flag, spec, raw, source) : checkString(flag, spec, raw, source);
  }
  return { values: values as FlagValues<S>, positionals: parsed.positionals, rest, given: new Set(Object.keys(parsed.values)) };
}

/**
 * parseArgs' complaint in this CLI's words. It throws TypeError with codes like
 * ERR_PARSE_ARGS_UNKNOWN_OPTION, in Node's words about its own API: for an unknown flag, advice
 * about '--' and positionals, which misleads a typo (issue 15); for `--insecure=true`, "Option
 * '--insecure' does not take an argument" (audit); for a last `--ttl-ms`, "Option '--ttl-ms
 * <value>' argument missing".
 */
function parseArgsMessage(message: string, words: string[], specs: FlagSpecs): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return unknownFlagMessage(unknown[1], Object.keys(specs));
  const switchValue = /^Option '(?:-\w, )?--([a-z0-9-]+)' does not take an argument/.exec(message);
  if (switchValue) {
    const flag = switchValue[1];
    const typed = words.find((word) => word.startsWith(`--${flag}=`)) ?? `--${flag}=...`;
    return `--${flag} is a switch and takes no value (got ${typed}): give --${flag} to turn it on, --no-${flag} or nothing to leave it off (see --help)`;
  }
  const missing = /^Option '(?:-\w, )?--([a-z0-9-]+) <value>' argument missing/.exec(message);
  if (missing) return `--${missing[1]} needs a value (see --help)`;
  return message;
}

/**
 * `--wait-ms -1` as `--wait-ms=-1`: parseArgs takes a word after a flag that starts with `-` for
 * a flag of its own and calls it ambiguous (a usage error, 2). A negative number for a number
 * flag is a value it cannot take: said by the range check (FlagValueError, 1), as `--wait-ms soon`.
 */
function joinNegativeNumbers(words: string[], specs: FlagSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const flag = /^--([a-z][a-z0-9-]*)$/.exec(words[i])?.[1];
    if (flag !== undefined && specs[flag]?.type === 'number' && /^-\d/.test(words[i + 1] ?? '')) {
      out.push(`${words[i]}=${words[i + 1]}`);
      i++;
    } else {
      out.push(words[i]);
    }
  }
  return out;
}

/** "unknown flag --endpoint; did you mean --endpoints?" — the nearest flag when one is near. */
export function unknownFlagMessage(given: string, known: string[]): string {
  const word = given.replace(/^-+/, '').split('=')[0];
  const near = known
    .map((flag) => ({ flag, distance: flag.startsWith(word) || word.startsWith(flag) ? 1 : editDistance(word, flag) }))
    .filter((c) => c.distance <= (word.length <= 3 ? 1 : 2))
    .sort((a, b) => a.distance - b.distance)[0];
  return `unknown flag ${given.split('=')[0]}${near ? `; did you mean --${near.flag}?` : ''} (see --help)`;
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** Parse a command line that has only flags (no positionals, no `--`). */
export function parseFlags<S extends FlagSpecs>(argv: string[], specs: S, options: ParseOptions = {}): FlagValues<S> {
  return parseFlagsAndWords(argv, specs, options).values;
}

/**
 * Parse a command line of flags and words, with nothing after `--`: only `lock` and `elect` run a
 * command, and a stray `--` elsewhere is a usage error rather than words silently dropped.
 * Words only with options.allowPositionals (the caller counts them); otherwise a word is a usage error too.
 */
export function parseFlagsAndWords<S extends FlagSpecs>(argv: string[], specs: S, options: ParseOptions = {}): Omit<ParsedCommandLine<S>, 'rest'> {
  const parsed = parseCommandLine(argv, specs, options);
  if (parsed.rest.length > 0) throw new UsageError(`unexpected arguments after '--': ${parsed.rest.join(' ')}`);
  return { values: parsed.values, positionals: parsed.positionals, given: parsed.given };
}

/**
 * Parse flags and exactly one word: `observe NAME`, `snapshot save FILE`. Another count is a
 * usage error in one wording, e.g. "observe takes one election NAME (got 2): lockstep observe NAME".
 */
export function parseFlagsAndOneWord<S extends FlagSpecs>(argv: string[], specs: S, command: string, word: string, kind?: string): { values: FlagValues<S>; word: string } {
  const { values, positionals } = parseFlagsAndWords(argv, specs, { allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`${command} takes one ${kind === undefined ? '' : `${kind} `}${word} (got ${positionals.length}): lockstep ${command} ${word}`);
  return { values, word: positionals[0] };
}

/** The flags section of a --help text, one line per flag with its env variable and default. */
export function describeFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([flag, spec]) => {
    const left = `  ${spec.short ? `-${spec.short}, ` : ''}--${flag}${spec.type === 'boolean' ? '' : ` <${spec.type === 'number' ? 'n' : 'value'}>`}`;
    const notes: string[] = [];
    if (spec.type === 'list') notes.push('repeatable; env comma-separated');
    if ('required' in spec && spec.required) notes.push('required');
    if ('default' in spec && spec.default !== undefined && spec.type !== 'boolean') notes.push(`default ${spec.default}`);
    if (spec.type === 'string' && spec.choices) notes.push(`one of ${spec.choices.join('|')}`);
    notes.push(spec.flagOnly ? 'flag only' : `env ${envName(flag)}`);
    return { left, right: `${spec.description ?? ''} (${notes.join('; ')})`.trim() };
  });
  const width = Math.max(0, ...rows.map((r) => r.left.length)) + 2;
  return rows.map((r) => r.left.padEnd(width) + r.right).join('\n');
}
