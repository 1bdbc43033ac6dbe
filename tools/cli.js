'use strict';
// Command lines of bench/ and tools/: Node's util.parseArgs, a --help generated from the same table,
// and a bad option or value rejected in one line (exit status 2) instead of a stack trace.
//
//   const o = parseCli('node tools/x.ts', 'what it does', {
//     seconds: { value: 'N', help: 'how long', default: 60, parse: integer(1) },
//     quick: { type: 'boolean', help: 'short run' },
//   });
const { parseArgs } = require('util');

function parseCli(program, summary, spec, argv = process.argv.slice(2)) {
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [name, option] of Object.entries(spec)) {
    options[name] = { type: option.type ?? 'string', multiple: option.multiple ?? false };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: spec._positionals !== undefined, strict: true });
  } catch (error) {
    reject(program, error.message.split('\n')[0]);
  }
  if (parsed.values.help) {
    process.stdout.write(usage(program, summary, spec));
    process.exit(0);
  }
  const values = {};
  for (const [name, option] of Object.entries(spec)) {
    if (name === '_positionals') continue;
    const raw = parsed.values[name];
    if (raw === undefined) {
      values[name] = option.default;
      continue;
    }
    try {
      values[name] = option.parse ? (Array.isArray(raw) ? raw.map(option.parse) : option.parse(raw)) : raw;
    } catch (error) {
      reject(program, `--${name}: ${error.message}`);
    }
  }
  if (spec._positionals !== undefined) values._positionals = parsed.positionals;
  return values;
}

function usage(program, summary, spec) {
  const rows = [['-h, --help', 'this text']];
  for (const [name, option] of Object.entries(spec)) {
    if (name === '_positionals') continue;
    const flag = option.type === 'boolean' ? `--${name}` : `--${name} ${option.value ?? 'VALUE'}`;
    const fallback = option.default === undefined || option.type === 'boolean' ? '' : ` (default: ${[option.default].flat().join(',')})`;
    rows.push([flag, `${option.help}${fallback}`]);
  }
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const positional = spec._positionals?.value ? ` ${spec._positionals.value}` : '';
  const lines = rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`);
  return `usage: ${program} [options]${positional}\n${summary}\n\n${lines.join('\n')}\n`;
}

function reject(program, message) {
  process.stderr.write(`${program}: ${message} (see --help)\n`);
  process.exit(2);
}

/** A parser for whole numbers in [min, max]. */
function integer(min = -Infinity, max = Infinity) {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`expected a whole number${range(min, max)}, got "${text}"`);
    }
    return value;
  };
}

/** A parser for numbers in [min, max]. */
function number(min = -Infinity, max = Infinity) {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      throw new Error(`expected a number${range(min, max)}, got "${text}"`);
    }
    return value;
  };
}

/** A parser for comma-separated lists, each item one of `choices` (any, without), parsed by `item`. */
function list(choices, item = (text) => text) {
  return (text) => {
    const items = text.split(',').map((part) => part.trim()).filter(Boolean);
    for (const part of items) {
      if (choices && !choices.includes(part)) throw new Error(`"${part}" is not one of ${choices.join(', ')}`);
    }
    return items.map(item);
  };
}

function range(min, max) {
  if (min === -Infinity && max === Infinity) return '';
  if (max === Infinity) return ` >= ${min}`;
  if (min === -Infinity) return ` <= ${max}`;
  return ` in ${min}..${max}`;
}

module.exports = { parseCli, integer, number, list };
