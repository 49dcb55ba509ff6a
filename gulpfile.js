// Copies what tsc does not emit next to the compiled files: node and credential icons (n8n resolves
// `file:` icon paths relative to the .js file) and the codex files (<Node>.node.json).
const { src, dest, task } = require('gulp');

task('build:icons', () =>
  src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}', 'icons/**/*.{png,svg}', 'nodes/**/*.node.json'], {
    base: '.',
    allowEmpty: true,
    encoding: false,
  }).pipe(dest('dist')),
);
