// Copies node and credential icons next to the compiled files: n8n resolves `file:` icon paths
// relative to the .js file, and tsc only emits JavaScript.
const { src, dest, task } = require('gulp');

task('build:icons', () =>
  src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}', 'icons/**/*.{png,svg}'], { base: '.', allowEmpty: true, encoding: false }).pipe(
    dest('dist'),
  ),
);
