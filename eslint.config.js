import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The dependency rule of docs/architecture.md, executable: each project's tags (the "nx" field of
 * its package.json) say which layers it may import. Libraries point downwards only; apps use
 * libraries, never each other; nothing but libs/bdv touches HDF5 (h5wasm).
 */
const HDF5 = ['h5wasm', 'h5wasm/*', 'h5wasm-plugins'];
export const moduleBoundaries = [
  'error',
  {
    allow: [],
    enforceBuildableLibDependency: false,
    depConstraints: [
      { sourceTag: 'layer:format', onlyDependOnLibsWithTags: [] },
      { sourceTag: 'layer:input', onlyDependOnLibsWithTags: ['layer:format'], bannedExternalImports: HDF5 },
      {
        sourceTag: 'layer:contract',
        onlyDependOnLibsWithTags: ['layer:format', 'layer:input'],
        bannedExternalImports: HDF5,
      },
      { sourceTag: 'layer:storage', onlyDependOnLibsWithTags: ['layer:input'], bannedExternalImports: HDF5 },
      {
        sourceTag: 'layer:convert',
        onlyDependOnLibsWithTags: ['layer:format', 'layer:input', 'layer:storage'],
        bannedExternalImports: HDF5,
      },
      {
        sourceTag: 'layer:pipeline',
        onlyDependOnLibsWithTags: ['layer:format', 'layer:contract', 'layer:storage'],
        bannedExternalImports: HDF5,
      },
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'], bannedExternalImports: HDF5 },
    ],
  },
];

export default tseslint.config(
  {
    ignores: ['**/dist/**', 'apps/cli/bundle/**', '**/node_modules/**', 'scratch/**', '.nx/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
    plugins: { '@nx': nx },
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries },
  },
);
