import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const INTRO = `# Benchmarks

Made by \`npm run bench\` (writer vs h5py vs raw copy), \`npm run bench:cluster\` (the cluster end
to end vs \`bdv convert\`), \`npm run bench:scale\` (thousands of setups and views),
\`npm run bench:startup\` (fixed costs of a command) and \`npm run bench:previews\` (how the API
answers while it reads previews). Each script replaces its own section below;
numbers are from one machine and one run — re-run them on yours.
`;

/** Replaces the section whose heading starts with `heading` (or appends it), keeping the others. */
export function writeSection(file, heading, section) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : INTRO;
  const parts = text.split(/\n(?=## )/);
  const kept = parts.filter((p) => !p.startsWith(heading));
  const intro = kept[0]?.startsWith('# ') ? kept.shift() : INTRO;
  writeFileSync(
    file,
    [intro.trimEnd(), ...kept.map((p) => p.trimEnd()), section.trimEnd()].join('\n\n') + '\n',
  );
}

/** The middle value of a case's runs (the upper one of an even count). */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
