/**
 * The corpus: one table of malformed, hostile or edge-case invocations, each with the exit status
 * (0 success, 1 bad input, 2 usage error) and the words its one stderr line must contain. Loader
 * cases that always passed are kept here so they stay passing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx, type IModelProto } from '../../src/models/onnx/proto.js';
import type { Case, Work } from './harness.js';
import { jpg, png } from './fixtures.js';

const TF = 'model/model.json';
const ONNX = 'm.onnx';
const SR = 'sr/model.json';
/** A pid no process can have (above Linux's largest pid_max, 2^22): a killed run's temp sibling. */
const DEAD_PID = 4194305;

const write = (w: Work, rel: string, content: string | Uint8Array) => {
  fs.mkdirSync(path.dirname(w.at(rel)), { recursive: true });
  fs.writeFileSync(w.at(rel), content);
};
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const editJson = (w: Work, f: (j: Json) => unknown, rel = TF) => write(w, rel, JSON.stringify(f(JSON.parse(fs.readFileSync(w.at(rel), 'utf8')))));
const layers = (j: Json): Json[] => j.modelTopology.config.layers;
const weightsOf = (w: Work) => fs.readFileSync(w.at('model/weights.bin'));
const editOnnx = (w: Work, f: (m: IModelProto) => void) => {
  const m = onnx.ModelProto.decode(fs.readFileSync(w.at(ONNX))) as IModelProto;
  f(m);
  write(w, ONNX, onnx.ModelProto.encode(m).finish());
};
const withFloat = (w: Work, at: number, v: number) => {
  const b = weightsOf(w);
  b.writeFloatLE(v, at * 4);
  write(w, 'model/weights.bin', b);
};
/** An earlier output of ours at `dir` (as a previous convert would have left it). */
const ourOutput = (w: Work, dir: string) => {
  write(w, `${dir}/report.json`, JSON.stringify({ tool: 'netdecouple', version: '0.0.0' }));
  write(w, `${dir}/model.onnx`, 'old model');
};
const gone = (w: Work, rel: string) => expectTrue(!fs.existsSync(w.at(rel)), `${rel} should be gone`);
function expectTrue(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}
const siblingsOf = (w: Work, rel: string) => fs.readdirSync(path.dirname(w.at(rel))).filter((f) => f.startsWith(`.${path.basename(rel)}.`));

const convertTf = ['convert', TF, '--rank', '2', '--no-eval'];
const convertOnnx = ['convert', ONNX, '--rank', '2', '--no-eval'];

// ── usage errors: exit 2, one line, a hint to --help ──────────────────────────────────────────────
const badNumbers: [string, string[], string][] = [
  ['convert --rank', ['convert', TF, '-o', 'out'], '--rank'],
  ['convert --energy', ['convert', TF, '-o', 'out'], '--energy'],
  ['convert --threads', ['convert', TF, '-o', 'out'], '--threads'],
  ['convert --seed', ['convert', TF, '-o', 'out'], '--seed'],
  ['convert --min-in-channels', ['convert', TF, '-o', 'out'], '--min-in-channels'],
  ['convert --calib-samples', ['convert', TF, '-o', 'out'], '--calib-samples'],
  ['convert --calib-tile', ['convert', TF, '-o', 'out'], '--calib-tile'],
  ['convert --max-iter', ['convert', TF, '-o', 'out'], '--max-iter'],
  ['convert --factor-rank', ['convert', TF, '-o', 'out'], '--factor-rank'],
  ['convert --target-speedup', ['convert', TF, '-o', 'out'], '--target-speedup'],
  ['compare --grid', ['compare', TF, '-o', 'out'], '--grid'],
  ['compare --cp-iters', ['compare', TF, '-o', 'out'], '--cp-iters'],
  ['bench --runs', ['bench', TF], '--runs'],
  ['bench --warmup', ['bench', TF], '--warmup'],
  ['bench --batch', ['bench', TF], '--batch'],
  ['sweep --latency-batch', ['sweep', TF, '--data', 'fashion-mnist', '-o', 'out'], '--latency-batch'],
  ['sweep --max-top1-drop', ['sweep', TF, '--data', 'fashion-mnist', '-o', 'out'], '--max-top1-drop'],
  ['zoo build --alpha', ['zoo', 'build', 'vgg16', '-o', 'out'], '--alpha'],
  ['zoo build --resolution', ['zoo', 'build', 'vgg16', '-o', 'out'], '--resolution'],
  ['zoo build --classes', ['zoo', 'build', 'vgg16', '-o', 'out'], '--classes'],
  ['eval --batch', ['eval', TF, '--data', 'fashion-mnist'], '--batch'],
  ['inspect --min-in-channels', ['inspect', TF], '--min-in-channels'],
];
const integerOnly = new Set(['--rank', '--threads', '--seed', '--min-in-channels', '--calib-samples', '--calib-tile', '--max-iter', '--factor-rank', '--grid', '--cp-iters', '--runs', '--warmup', '--batch', '--latency-batch', '--resolution', '--classes']);

const usage: Case[] = [
  ...badNumbers.flatMap(([name, args, flag]): Case[] => [
    { name: `${name} abc`, args: [...args, flag, 'abc'], exit: 2, message: new RegExp(`${flag}.*abc.*\\(see --help\\)$`) },
    { name: `${name} NaN`, args: [...args, flag, 'NaN'], exit: 2, message: new RegExp(`${flag}.*NaN`) },
    ...(integerOnly.has(flag) ? [{ name: `${name} 2.5`, args: [...args, flag, '2.5'], exit: 2 as const, message: /is not an integer/ }] : []),
  ]),
  { name: 'convert --energy Infinity', args: ['convert', TF, '-o', 'out', '--energy', 'Infinity'], exit: 2, message: /--energy/ },
  { name: 'convert --tucker-ranks a,b', args: ['convert', TF, '-o', 'out', '--method', 'tucker2', '--tucker-ranks', 'a,b'], exit: 2, message: /--tucker-ranks/ },
  { name: '--max-activation-memory abc', args: ['--max-activation-memory', 'abc', 'inspect', TF], exit: 2, message: /--max-activation-memory/ },
  { name: 'convert --method bogus', args: ['convert', TF, '-o', 'out', '--method', 'bogus'], exit: 2, message: /--method.*bogus.*nd, cp/ },
  { name: 'convert --order bogus', args: ['convert', TF, '-o', 'out', '--order', 'bogus'], exit: 2, message: /--order/ },
  { name: 'convert --form bogus', args: ['convert', TF, '-o', 'out', '--form', 'bogus'], exit: 2, message: /--form/ },
  { name: 'convert --backend bogus', args: ['convert', TF, '-o', 'out', '--backend', 'bogus'], exit: 2, message: /--backend/ },
  { name: 'convert --by bogus', args: ['convert', TF, '-o', 'out', '--by', 'bogus'], exit: 2, message: /--by/ },
  { name: 'convert --calib-mode bogus', args: ['convert', TF, '-o', 'out', '--calib-mode', 'bogus'], exit: 2, message: /--calib-mode/ },
  { name: 'convert --rank-rule bogus', args: ['convert', TF, '-o', 'out', '--rank-rule', 'bogus'], exit: 2, message: /--rank-rule/ },
  { name: 'zoo build --classifier bogus', args: ['zoo', 'build', 'vgg16', '-o', 'out', '--classifier', 'bogus'], exit: 2, message: /--classifier/ },
  { name: 'convert without -o', args: ['convert', TF, '--rank', '2'], exit: 2, message: /required option '-o, --out <dir>'/ },
  { name: 'compare without -o', args: ['compare', TF], exit: 2, message: /required option '-o/ },
  { name: 'sweep without --data', args: ['sweep', TF, '-o', 'out'], exit: 2, message: /--data/ },
  { name: 'eval without --data', args: ['eval', TF], exit: 2, message: /--data/ },
  { name: 'convert without a model', args: ['convert', '-o', 'out'], exit: 2, message: /missing required argument 'model'/ },
  { name: 'inspect without a model', args: ['inspect'], exit: 2, message: /missing required argument/ },
  { name: 'zoo build without a name', args: ['zoo', 'build', '-o', 'out'], exit: 2, message: /missing required argument/ },
  { name: 'an unknown flag', args: ['convert', TF, '-o', 'out', '--frobnicate'], exit: 2, message: /unknown option '--frobnicate'/ },
  { name: 'a misspelt flag gets a suggestion on the same line', args: ['convert', TF, '-o', 'out', '--rnak', '2'], exit: 2, message: /unknown option '--rnak'.*--rank/ },
  { name: 'an unknown command', args: ['transmogrify', TF], exit: 2, message: /unknown command 'transmogrify'/ },
  { name: 'no command', args: [], exit: 2, message: /missing command \(see --help\)/ },
  { name: 'zoo without a subcommand', args: ['zoo'], exit: 2, message: /missing command/ },
  { name: 'too many arguments', args: ['inspect', TF, ONNX], exit: 2, message: /too many arguments/ },
  { name: '-o empty', args: ['convert', TF, '-o', '', '--rank', '2'], exit: 2, message: /-o is empty/ },
  { name: '-o blank', args: ['convert', TF, '-o', '  ', '--rank', '2'], exit: 2, message: /-o is empty/ },
  { name: 'compare -o empty', args: ['compare', TF, '-o', ''], exit: 2, message: /-o is empty/ },
  { name: 'zoo build -o empty', args: ['zoo', 'build', 'vgg16', '-o', ''], exit: 2, message: /-o is empty/ },
  { name: '--help', args: ['--help'], exit: 0 },
  { name: 'convert --help', args: ['convert', '--help'], exit: 0 },
  { name: '--version', args: ['--version'], exit: 0 },
];

// ── -o: refused before any work, nothing touched ─────────────────────────────────────────────────
const outputs: Case[] = [
  { name: '-o . in a folder holding other files', args: [...convertTf, '-o', '.'], exit: 1, message: /-o \. (holds the input|is the current folder)/ },
  { name: '-o . with the model elsewhere', setup: (w) => fs.cpSync(w.at('model'), w.at('../elsewhere'), { recursive: true }), args: ['convert', '../elsewhere/model.json', '--rank', '2', '--no-eval', '-o', '.'], exit: 1, message: /-o \. is the current folder/ },
  { name: '-o ./', args: [...convertOnnx, '-o', './'], exit: 1, message: /holds the input|current folder/ },
  { name: '-o .. (an ancestor of the current folder)', args: [...convertOnnx, '-o', '..'], exit: 1, message: /-o \.\. (holds the input|is the current folder or holds it)/ },
  { name: '-o the input model folder', args: ['convert', 'model/', '--rank', '2', '--no-eval', '-o', 'model'], exit: 1, message: /-o model (is the input|holds the input)/ },
  { name: '-o the folder of the input model.json', args: [...convertTf, '-o', 'model'], exit: 1, message: /-o model holds the input model\/model\.json/ },
  { name: '-o inside the input folder', args: ['convert', 'model', '--rank', '2', '--no-eval', '-o', 'model/out'], exit: 1, message: /is inside the input folder model/ },
  { name: '-o the input model.json', args: [...convertTf, '-o', TF], exit: 1, message: /-o model\/model\.json is the input/ },
  { name: '-o the input .onnx', args: [...convertOnnx, '-o', ONNX], exit: 1, message: /-o m\.onnx is the input/ },
  { name: '-o a symlink to the input folder', setup: (w) => fs.symlinkSync('model', w.at('link')), args: [...convertTf, '-o', 'link'], exit: 1, message: /-o link holds the input/ },
  { name: '-o a symlink to the current folder', setup: (w) => fs.symlinkSync('.', w.at('here')), args: [...convertOnnx, '-o', 'here'], exit: 1, message: /-o here (holds the input|is the current folder)/ },
  { name: '-o through a symlink into the input folder', setup: (w) => fs.symlinkSync('model', w.at('link')), args: ['convert', 'model', '--rank', '2', '--no-eval', '-o', 'link/out'], exit: 1, message: /inside the input folder/ },
  { name: '-o a broken symlink', setup: (w) => fs.symlinkSync('nowhere', w.at('dangling')), args: [...convertOnnx, '-o', 'dangling'], exit: 1, message: /dangling.*symbolic link to a missing target/ },
  { name: '-o an existing file', args: [...convertOnnx, '-o', 'notes.txt'], exit: 1, message: /-o notes\.txt is an existing file/ },
  { name: '-o a path through a file', args: [...convertOnnx, '-o', 'notes.txt/out'], exit: 1, message: /notes\.txt\/out/ },
  { name: '-o a non-empty folder we did not write', args: [...convertOnnx, '-o', 'src'], exit: 1, message: /-o src is a non-empty folder netdecouple did not write \(app\.py\).*--force/ },
  { name: '-o a folder holding a TF.js model of someone else', setup: (w) => fs.cpSync(w.at('model'), w.at('theirs'), { recursive: true }), args: [...convertOnnx, '-o', 'theirs'], exit: 1, message: /did not write \(model\.json, weights\.bin\)/ },
  { name: '-o our earlier output with a foreign file added', setup: (w) => { ourOutput(w, 'out'); write(w, 'out/my-notes.txt', 'mine'); }, args: [...convertOnnx, '-o', 'out'], exit: 1, message: /did not write \(my-notes\.txt\)/ },
  { name: '-o an ancestor of the input with --force', args: [...convertTf, '-o', '.', '--force'], exit: 1, message: /holds the input|current folder/ },
  { name: '-o the input folder with --force', args: ['convert', 'model', '--rank', '2', '--no-eval', '-o', 'model', '--force'], exit: 1, message: /is the input/ },
  { name: '-o the --input image', args: ['convert', 'fixed/model.json', '--rank', '2', '--input', 'photo.png', '--backend', 'cpu', '-o', 'photo.png'], exit: 1, message: /is the input photo\.png/ },
  { name: '-o the calibration photos folder', args: ['convert', TF, '--rank', '2', '--no-eval', '--calibrate', 'images:photos', '-o', 'photos', '--force'], exit: 1, message: /is the input photos/ },
  { name: 'compare -o .', args: ['compare', ONNX, '-o', '.'], exit: 1, message: /holds the input|current folder/ },
  { name: 'compare -o the input folder', args: ['compare', 'model', '-o', 'model'], exit: 1, message: /is the input model/ },
  { name: 'compare -o an existing file', args: ['compare', ONNX, '-o', 'notes.txt'], exit: 1, message: /existing file/ },
  { name: 'compare -o a foreign folder', args: ['compare', ONNX, '-o', 'src'], exit: 1, message: /did not write/ },
  { name: 'sweep -o the input folder', args: ['sweep', 'model', '--data', 'fashion-mnist', '-o', 'model'], exit: 1, message: /is the input model/ },
  { name: 'sweep -o .', args: ['sweep', ONNX, '--data', 'fashion-mnist', '-o', '.'], exit: 1, message: /holds the input|current folder/ },
  { name: 'sweep -o the evaluation photos', args: ['sweep', TF, '--data', 'images:photos', '-o', 'photos', '--force'], exit: 1, message: /is the input photos/ },
  { name: 'sweep -o an existing file', args: ['sweep', ONNX, '--data', 'fashion-mnist', '-o', 'notes.txt'], exit: 1, message: /existing file/ },
  { name: 'zoo build -o .', args: ['zoo', 'build', 'vgg16', '-o', '.'], exit: 1, message: /-o \. is the current folder/ },
  { name: 'zoo build -o a foreign folder', args: ['zoo', 'build', 'vgg16', '-o', 'src'], exit: 1, message: /did not write/ },
  { name: 'zoo build -o the --weights model folder', args: ['zoo', 'build', 'vgg16', '--weights', TF, '-o', 'model', '--force'], exit: 1, message: /holds the input/ },
  { name: 'zoo build -o an existing file', args: ['zoo', 'build', 'vgg16', '-o', 'notes.txt'], exit: 1, message: /existing file/ },
  { name: 'demo -o .', args: ['demo', '-o', '.'], exit: 1, message: /current folder/ },
  { name: 'demo -o a foreign folder', args: ['demo', '-o', 'src'], exit: 1, message: /did not write/ },
  // Writes that must succeed, and what they may replace.
  { name: '-o a new folder', args: [...convertOnnx, '-o', 'out'], exit: 0, out: 'out' },
  { name: '-o a new nested folder', args: [...convertOnnx, '-o', 'a/b/out'], exit: 0, out: 'a' },
  { name: '-o an empty folder', setup: (w) => fs.mkdirSync(w.at('empty')), args: [...convertOnnx, '-o', 'empty'], exit: 0, out: 'empty' },
  { name: '-o our earlier output is replaced', setup: (w) => ourOutput(w, 'out'), args: [...convertOnnx, '-o', 'out'], exit: 0, out: 'out', check: (w) => expectTrue(!fs.readFileSync(w.at('out/model.onnx'), 'utf8').startsWith('old'), 'the old output was not replaced') },
  { name: 'compare over its earlier output', setup: (w) => { write(w, 'cmp/compare.json', JSON.stringify({ tool: 'netdecouple', kind: 'compare' })); write(w, 'cmp/old_layer.svg', '<svg/>'); }, args: ['compare', ONNX, '--methods', 'nd', '-o', 'cmp'], exit: 0, out: 'cmp', check: (w) => gone(w, 'cmp/old_layer.svg') },
  { name: 'zoo build over an earlier zoo build', setup: (w) => { write(w, 'zb/model.json', JSON.stringify({ format: 'layers-model', convertedBy: 'netdecouple 0.0.0 zoo build' })); write(w, 'zb/weights.bin', 'old'); }, args: ['zoo', 'build', 'mobilenet-v1', '--alpha', '0.25', '--resolution', '32', '--classes', '2', '-o', 'zb'], exit: 0, out: 'zb' },
  { name: 'zoo build over a TF.js model we did not write', args: ['zoo', 'build', 'mobilenet-v1', '--alpha', '0.25', '--resolution', '32', '--classes', '2', '-o', 'fixed'], exit: 1, message: /-o fixed is a non-empty folder netdecouple did not write \(model\.json, weights\.bin\)/ },
  { name: '-o a foreign folder with --force is replaced', args: [...convertOnnx, '-o', 'src', '--force'], exit: 0, out: 'src', check: (w) => gone(w, 'src/app.py') },
  { name: '-o a symlink to a new folder elsewhere', setup: (w) => { fs.mkdirSync(w.at('real')); fs.symlinkSync('real', w.at('alias')); }, args: [...convertOnnx, '-o', 'alias'], exit: 0, out: 'real', check: (w) => expectTrue(fs.lstatSync(w.at('alias')).isSymbolicLink(), 'the symlink was replaced') },
  { name: '-o inside the folder of an input file is fine', args: ['convert', 'model/model.json', '--rank', '2', '--no-eval', '-o', 'model/converted'], exit: 0, out: 'model/converted' },
  { name: 'a stale temp sibling of a killed run is removed', setup: (w) => write(w, `.out.netdecouple-${DEAD_PID}-beef.new/model.onnx`, 'partial'), args: [...convertOnnx, '-o', 'out'], exit: 0, out: 'out', check: (w) => expectTrue(siblingsOf(w, 'out').length === 0, 'stale sibling left') },
  { name: 'an old-style temp sibling (.out.tmp-XXXXXX) is removed', setup: (w) => write(w, '.out.tmp-AbC123/model.onnx', 'partial'), args: [...convertOnnx, '-o', 'out'], exit: 0, out: 'out', check: (w) => expectTrue(siblingsOf(w, 'out').length === 0, 'stale sibling left') },
  {
    name: 'the previous output parked by a run killed mid-swap is restored before anything else',
    setup: (w) => { ourOutput(w, `.out.netdecouple-${DEAD_PID}-cafe.old`); write(w, `.out.netdecouple-${DEAD_PID}-cafe.new/model.onnx`, 'new'); },
    args: ['convert', 'missing.onnx', '--rank', '2', '-o', 'out'], exit: 1, message: /missing\.onnx/, out: 'out',
    check: (w) => {
      expectTrue(fs.readFileSync(w.at('out/model.onnx'), 'utf8') === 'old model', 'the parked output was not restored');
      expectTrue(siblingsOf(w, 'out').length === 0, 'temp siblings left');
    },
  },
  { name: 'a temp sibling of a live run is left alone', setup: (w) => write(w, `.out.netdecouple-${process.pid}-abcd.new/x.onnx`, 'busy'), args: [...convertOnnx, '-o', 'out'], exit: 0, out: 'out', check: (w) => { expectTrue(siblingsOf(w, 'out').length === 1, 'a live run\'s temp folder was removed'); fs.rmSync(w.at(`.out.netdecouple-${process.pid}-abcd.new`), { recursive: true }); } },
];
// ── TF.js model files ────────────────────────────────────────────────────────────────────────────
const tfjs: Case[] = [
  ['a missing model.json', () => {}, ['inspect', 'nowhere/model.json'], /model file not found: nowhere\/model\.json/],
  ['a folder without model.json', (w: Work) => fs.mkdirSync(w.at('emptymodel')), ['inspect', 'emptymodel'], /model file not found: emptymodel\/model\.json/],
  ['model.json is a folder', (w: Work) => fs.mkdirSync(w.at('dir/model.json'), { recursive: true }), ['inspect', 'dir/model.json'], /dir\/model\.json/],
  ['malformed JSON', (w: Work) => write(w, TF, '{"modelTopology": {'), ['inspect', TF], /model\.json is not valid JSON/],
  ['an empty model.json', (w: Work) => write(w, TF, ''), ['inspect', TF], /model\.json is not valid JSON/],
  ['JSON that is a list', (w: Work) => write(w, TF, '[]'), ['inspect', TF], /not a TF\.js LayersModel/],
  ['no modelTopology', (w: Work) => editJson(w, (j) => ({ ...j, modelTopology: undefined })), ['inspect', TF], /no "modelTopology"/],
  ['a graph model', (w: Work) => editJson(w, (j) => ({ ...j, format: 'graph-model' })), ['inspect', TF], /graph-model/],
  ['weightsManifest not a list', (w: Work) => editJson(w, (j) => ({ ...j, weightsManifest: {} })), ['inspect', TF], /"weightsManifest" must be a list/],
  ['a manifest group without paths', (w: Work) => editJson(w, (j) => ({ ...j, weightsManifest: [{ weights: [] }] })), ['inspect', TF], /needs "paths" and "weights"/],
  ['a weight entry without dtype', (w: Work) => editJson(w, (j) => { j.weightsManifest[0].weights[0].dtype = undefined; return j; }), ['inspect', TF], /without name\/dtype/],
  ['a shard outside the model folder', (w: Work) => { editJson(w, (j) => { j.weightsManifest[0].paths = ['../weights.bin']; return j; }); write(w, 'weights.bin', weightsOf(w)); }, ['inspect', TF], /points outside the model folder/],
  ['a shard with an absolute path', (w: Work) => editJson(w, (j) => { j.weightsManifest[0].paths = ['/etc/passwd']; return j; }), ['inspect', TF], /weight shard/],
  ['a missing shard', (w: Work) => fs.rmSync(w.at('model/weights.bin')), ['inspect', TF], /weights\.bin/],
  ['a shard that is a folder', (w: Work) => { fs.rmSync(w.at('model/weights.bin')); fs.mkdirSync(w.at('model/weights.bin')); }, ['inspect', TF], /weight shard "weights\.bin" cannot be read \(it is a folder/],
  ['a truncated shard', (w: Work) => write(w, 'model/weights.bin', weightsOf(w).subarray(0, 100)), ['inspect', TF], /has 100 bytes but its manifest describes \d+ \(truncated shard\?\)/],
  ['a shard with extra bytes', (w: Work) => write(w, 'model/weights.bin', Buffer.concat([weightsOf(w), Buffer.alloc(8)])), ['inspect', TF], /bytes but its manifest describes/],
  ['an empty shard', (w: Work) => write(w, 'model/weights.bin', ''), ['inspect', TF], /has 0 bytes/],
  ['a NaN weight', (w: Work) => withFloat(w, 5, NaN), ['inspect', TF], /contains NaN at index 5/],
  ['an Infinity weight', (w: Work) => withFloat(w, 9, Infinity), ['inspect', TF], /contains Inf at index 9/],
  ['an unknown layer class', (w: Work) => editJson(w, (j) => { layers(j)[1].class_name = 'Frobnicate'; return j; }), ['inspect', TF], /Frobnicate/],
  ['an unsupported dtype', (w: Work) => editJson(w, (j) => { j.weightsManifest[0].weights[0].dtype = 'complex64'; return j; }), ['inspect', TF], /complex64/],
  ['a negative weight dimension', (w: Work) => editJson(w, (j) => { j.weightsManifest[0].weights[0].shape = [-3, 3, 3, 8]; return j; }), ['inspect', TF], /weight|shape|-3/],
  ['a kernel shape that does not match the layer', (w: Work) => editJson(w, (j) => { const ws = j.weightsManifest[0].weights; [ws[0].shape, ws[2].shape] = [ws[2].shape, ws[0].shape]; return j; }), ['inspect', TF], /conv|kernel|shape/],
  ['a layer reading from itself (cycle)', (w: Work) => editJson(w, (j) => { layers(j)[1].inbound_nodes = [[['conv1', 0, 0, {}]]]; return j; }), ['inspect', TF], /conv1/],
  ['a layer reading a missing layer', (w: Work) => editJson(w, (j) => { layers(j)[2].inbound_nodes = [[['ghost', 0, 0, {}]]]; return j; }), ['inspect', TF], /ghost/],
  ['an output naming a missing layer', (w: Work) => editJson(w, (j) => { j.modelTopology.config.output_layers = [['ghost', 0, 0]]; return j; }), ['inspect', TF], /ghost/],
  ['two layers with one name', (w: Work) => editJson(w, (j) => { layers(j)[2].name = 'conv1'; layers(j)[2].config.name = 'conv1'; return j; }), ['inspect', TF], /conv1/],
  ['a huge declared weight shape', (w: Work) => editJson(w, (j) => { j.weightsManifest[0].weights[0].shape = [100000, 100000, 3, 8]; return j; }), ['inspect', TF], /weight|bytes|shape/],
  ['a convert of a bad model writes nothing', (w: Work) => write(w, TF, '{'), ['convert', TF, '--rank', '2', '-o', 'out'], /not valid JSON/],
  ['a text file named .json', (w: Work) => write(w, 'readme.json', 'hello'), ['inspect', 'readme.json'], /not valid JSON/],
].map(([name, setup, args, message]) => ({ name: `TF.js: ${name}`, setup: setup as (w: Work) => void, args: args as string[], exit: 1 as const, message: message as RegExp }));

// ── ONNX files ───────────────────────────────────────────────────────────────────────────────────
const onnxCases: Case[] = [
  ['an empty file', (w: Work) => write(w, ONNX, ''), /m\.onnx: not an ONNX model: the file is empty/],
  ['text', (w: Work) => write(w, ONNX, 'this is not a protobuf'), /m\.onnx: (not an ONNX model|truncated)/],
  ['a truncated file (half)', (w: Work) => write(w, ONNX, fs.readFileSync(w.at(ONNX)).subarray(0, 2000)), /m\.onnx: (truncated|not an ONNX model)/],
  ['a truncated file (a few bytes)', (w: Work) => write(w, ONNX, fs.readFileSync(w.at(ONNX)).subarray(0, 7)), /m\.onnx:/],
  ['a PNG named .onnx', (w: Work) => write(w, ONNX, png(4, 4)), /m\.onnx:/],
  ['two nodes producing one tensor', (w: Work) => editOnnx(w, (m) => { const ns = m.graph!.node!; const relu = ns.find((n) => n.opType === 'Relu')!; ns.splice(ns.indexOf(relu) + 1, 0, { ...relu, name: 'dup', output: [...relu.output!] }); }), /tensor ".*" is produced by both node .* and node "dup"/],
  ['a node overwriting the graph input', (w: Work) => editOnnx(w, (m) => { m.graph!.node![1].output = [m.graph!.input![0].name!]; }), /is produced by both a graph input and node/],
  ['a node overwriting an initializer', (w: Work) => editOnnx(w, (m) => { m.graph!.node![1].output = [m.graph!.initializer![0].name!]; }), /is produced by both an initializer and node/],
  ['a node reading a tensor nobody produces', (w: Work) => editOnnx(w, (m) => { m.graph!.node![1].input = ['ghost']; }), /ghost/],
  ['opset 9', (w: Work) => editOnnx(w, (m) => { m.opsetImport = [{ domain: '', version: 9 }]; }), /opset 9 is too old/],
  ['no opset', (w: Work) => editOnnx(w, (m) => { m.opsetImport = []; }), /imports no ai\.onnx opset/],
  ['no ir_version', (w: Work) => editOnnx(w, (m) => { m.irVersion = 0; }), /no valid ir_version/],
  ['a NaN initializer', (w: Work) => editOnnx(w, (m) => { const t = m.graph!.initializer!.find((i) => (i.dims ?? []).length === 4)!; const b = Buffer.from(t.rawData ?? new Float32Array(t.floatData ?? []).buffer); b.writeFloatLE(NaN, 8); t.rawData = b; t.floatData = []; }), /NaN|finite/],
  ['an initializer with the wrong byte count', (w: Work) => editOnnx(w, (m) => { const t = m.graph!.initializer!.find((i) => (i.dims ?? []).length === 4)!; t.rawData = new Uint8Array(12); t.floatData = []; }), /raw_data has 12 bytes|stored values/],
  ['a huge declared initializer', (w: Work) => editOnnx(w, (m) => { const t = m.graph!.initializer!.find((i) => (i.dims ?? []).length === 4)!; t.dims = [100000, 100000, 3, 3]; }), /over the \d+ limit/],
  ['external data outside the folder', (w: Work) => editOnnx(w, (m) => { const t = m.graph!.initializer![0]; t.dataLocation = 1; t.externalData = [{ key: 'location', value: '../w.bin' }]; t.rawData = new Uint8Array(0); }), /points outside the model folder/],
  ['external data at an absolute path', (w: Work) => editOnnx(w, (m) => { const t = m.graph!.initializer![0]; t.dataLocation = 1; t.externalData = [{ key: 'location', value: '/etc/passwd' }]; t.rawData = new Uint8Array(0); }), /absolute path/],
  ['missing external data', (w: Work) => editOnnx(w, (m) => { const t = m.graph!.initializer![0]; t.dataLocation = 1; t.externalData = [{ key: 'location', value: 'w.bin' }]; t.rawData = new Uint8Array(0); }), /external data file "w\.bin" not found/],
  ['an unsupported op', (w: Work) => editOnnx(w, (m) => { m.graph!.node!.find((n) => n.opType === 'Relu')!.opType = 'Frobnicate'; }), /layer "\/relu1\/Relu"/],
  ['an .onnx that is a folder', (w: Work) => fs.mkdirSync(w.at('d.onnx')), /d\.onnx/],
].map(([name, setup, message]) => ({ name: `ONNX: ${name}`, setup: setup as (w: Work) => void, args: ['inspect', String(name).includes('folder') && String(name).startsWith('an .onnx') ? 'd.onnx' : ONNX], exit: 1 as const, message: message as RegExp }));

// ── images, data, input sizes, option combinations ───────────────────────────────────────────────
const fixedIn = ['convert', 'fixed/model.json', '--rank', '2', '--backend', 'cpu', '-o', 'out'];
const inputs: Case[] = [
  { name: '--input missing', args: [...fixedIn, '--input', 'nope.png'], exit: 1, message: /image not found: nope\.png/ },
  { name: '--input a text file', args: [...fixedIn, '--input', 'notes.txt'], exit: 1, message: /notes\.txt is not a PNG or JPEG image/ },
  { name: '--input an empty file', setup: (w) => write(w, 'e.png', ''), args: [...fixedIn, '--input', 'e.png'], exit: 1, message: /e\.png is not a PNG or JPEG/ },
  { name: '--input a folder', args: [...fixedIn, '--input', 'photos'], exit: 1, message: /photos: cannot read the image \(it is a folder\)/ },
  { name: '--input a truncated PNG', setup: (w) => write(w, 'cut.png', png(8, 8).subarray(0, 60)), args: [...fixedIn, '--input', 'cut.png'], exit: 1, message: /cut\.png: damaged PNG.*re-export/ },
  { name: '--input a truncated JPEG', setup: (w) => write(w, 'cut.jpg', jpg(8, 8).subarray(0, 200)), args: [...fixedIn, '--input', 'cut.jpg'], exit: 1, message: /cut\.jpg: damaged JPEG/ },
  { name: '--input a PNG header claiming 10⁵×10⁵ pixels', setup: (w) => { const b = png(8, 8); b.writeUInt32BE(100000, 16); b.writeUInt32BE(100000, 20); write(w, 'bomb.png', b); }, args: [...fixedIn, '--input', 'bomb.png'], exit: 1, message: /bomb\.png: the image is 100000×100000, above the 50 megapixel limit/ },
  // A photo of another size is resized / centre-cropped to a fixed-size model's input by the preprocessing, as vision pipelines do.
  { name: '--input of another size than the model takes', setup: (w) => write(w, 'big.png', png(16, 16)), args: [...fixedIn, '--input', 'big.png'], exit: 0, out: 'out' },
  { name: '--input a PNG', args: [...fixedIn, '--input', 'photo.png'], exit: 0, out: 'out' },
  { name: '--input a JPEG (one decoder for every image)', args: [...fixedIn, '--input', 'photo.jpg'], exit: 0, out: 'out' },
  { name: '--input-shape 0,0', args: ['inspect', TF, '--input-shape', '0,0'], exit: 1, message: /--input-shape "0,0"/ },
  { name: '--input-shape -4,4', args: ['inspect', TF, '--input-shape', '-4,4'], exit: 1, message: /--input-shape "-4,4"/ },
  { name: '--input-shape abc', args: ['inspect', TF, '--input-shape', 'abc'], exit: 1, message: /--input-shape "abc"/ },
  { name: '--input-shape too large', args: ['inspect', TF, '--input-shape', '20000,20000'], exit: 1, message: /≤ 16384/ },
  { name: 'an input that shrinks to nothing (inspect)', args: ['inspect', TF, '--input-shape', '2,2'], exit: 1, message: /layer "conv2": output size \[0, 0, 6\] is empty/ },
  { name: 'an input that shrinks to nothing (convert)', args: ['convert', TF, '--rank', '2', '--input-shape', '1,1', '--backend', 'cpu', '-o', 'out'], exit: 1, message: /layer "conv2": output size .* is empty/ },
  { name: 'a model declaring a 0×0 input', setup: (w) => editJson(w, (j) => { layers(j)[0].config.batch_input_shape = [null, 0, 0, 3]; return j; }, 'fixed/model.json'), args: ['convert', 'fixed/model.json', '--rank', '2', '--backend', 'cpu', '-o', 'out'], exit: 1, message: /0|empty/ },
  { name: '--input-shape 16384,16384 is refused before allocating', args: ['convert', TF, '--rank', '2', '--input-shape', '16384,16384', '--backend', 'cpu', '-o', 'out'], exit: 1, message: /needs about \d+\.\d GiB of activations.*--max-activation-memory/, spawn: true },
  { name: 'bench at 16384² is refused', args: ['bench', TF, '--rank', '2', '--input-shape', '16384,16384', '--backend', 'cpu'], exit: 1, message: /GiB of activations/ },
  { name: 'compare --output-error at 16384² is refused', args: ['compare', TF, '--output-error', '--input-shape', '16384,16384', '--backend', 'cpu', '-o', 'out'], exit: 1, message: /GiB of activations/ },
  // 8×8×3 input (768 B) and conv1's 8×8×8 (2048 B) live together, then conv1's and conv2's 6×6×6 (864 B): 2912 B = 2.8 KiB.
  { name: '--max-activation-memory lowers the limit', args: ['--max-activation-memory', '0.000001', 'convert', TF, '--rank', '2', '--input-shape', '8,8', '--backend', 'cpu', '-o', 'out'], exit: 1, message: /needs about 2\.8 KiB of activations .*above the 0\.000001 GiB limit/ },
  { name: '--max-activation-memory 0', args: ['--max-activation-memory', '0', 'inspect', TF], exit: 1, message: /positive number of GiB/ },
  { name: '--data unknown', args: ['eval', TF, '--data', 'imagenet-from-nowhere'], exit: 1, message: /imagenet-from-nowhere/ },
  { name: '--data images: a missing folder', args: ['eval', SR, '--data', 'images:nope'], exit: 1, message: /folder not found: nope/ },
  { name: '--data images: an empty folder', setup: (w) => fs.mkdirSync(w.at('none')), args: ['eval', SR, '--data', 'images:none'], exit: 1, message: /no image files in none/ },
  { name: '--data images: a folder with a text file', setup: (w) => write(w, 'mixed/a.txt', 'text'), args: ['eval', SR, '--data', 'images:mixed'], exit: 1, message: /a\.txt is not a PNG or JPEG image/ },
  { name: '--data images: a truncated PNG', setup: (w) => write(w, 'cutdir/a.png', png(8, 8).subarray(0, 50)), args: ['eval', SR, '--data', 'images:cutdir'], exit: 1, message: /a\.png: damaged PNG/ },
  { name: '--data images: a truncated JPEG', setup: (w) => write(w, 'cutj/a.jpg', jpg(8, 8).subarray(0, 150)), args: ['eval', SR, '--data', 'images:cutj'], exit: 1, message: /a\.jpg: damaged JPEG/ },
  { name: '--calibrate unknown data', args: ['convert', TF, '--rank', '2', '--no-eval', '--calibrate', 'bogus-data', '-o', 'out'], exit: 1, message: /bogus-data/ },
  { name: '--calibrate images: a missing folder', args: ['convert', TF, '--rank', '2', '--no-eval', '--calibrate', 'images:nope', '-o', 'out'], exit: 1, message: /nope/ },
  { name: '--calibrate fashion-mnist-train[:abc]', args: ['convert', TF, '--rank', '2', '--no-eval', '--calibrate', 'fashion-mnist-train[:abc]', '-o', 'out'], exit: 1, message: /fashion-mnist-train\[:abc\]/ },
  { name: 'sweep --calibrate on the evaluation photos', args: ['sweep', SR, '--data', 'images:photos', '--calibrate', 'images:photos', '-o', 'out'], exit: 1, message: /leak/ },
  { name: '--rank 0', args: ['convert', TF, '--rank', '0', '-o', 'out'], exit: 2, message: /rank/ },
  { name: '--rank 1000 (capped at each layer maximum)', args: ['convert', TF, '--rank', '1000', '--no-eval', '-o', 'out'], exit: 0, out: 'out' },
  { name: '--energy 2', args: ['convert', TF, '--energy', '2', '-o', 'out'], exit: 2, message: /energy|τ/ },
  { name: '--energy 0', args: ['convert', TF, '--energy', '0', '-o', 'out'], exit: 2, message: /energy|τ/ },
  { name: '--rank and --energy together', args: ['convert', TF, '--rank', '2', '--energy', '0.9', '-o', 'out'], exit: 2, message: /rank|energy/ },
  { name: 'neither --rank nor --energy', args: ['convert', TF, '-o', 'out'], exit: 2, message: /rank|energy/ },
  { name: 'bench --against with --rank', args: ['bench', TF, '--against', TF, '--rank', '2'], exit: 2, message: /either --against/ },
  { name: 'compare --methods bogus', args: ['compare', TF, '--methods', 'bogus', '-o', 'out'], exit: 2, message: /--methods "bogus"/ },
  { name: 'convert --methods bogus', args: ['convert', TF, '--target-speedup', '2', '--methods', 'bogus', '-o', 'out'], exit: 2, message: /--methods "bogus"/ },
  { name: 'zoo build of an unknown architecture', args: ['zoo', 'build', 'alexnet-9000', '-o', 'out'], exit: 1, message: /alexnet-9000/ },
  { name: 'zoo build --weights missing', args: ['zoo', 'build', 'vgg16', '--weights', 'nope/model.json', '-o', 'out'], exit: 1, message: /nope\/model\.json/ },
  { name: 'eval --against a missing model', args: ['eval', TF, '--data', 'fashion-mnist', '--against', 'nope.onnx'], exit: 1, message: /nope\.onnx/ },
  { name: 'bench --against a model of the other format', args: ['bench', TF, '--against', ONNX], exit: 1, message: /same format|NCHW|NHWC|m\.onnx/ },
  // Successes the corpus keeps passing.
  { name: 'inspect a TF.js model', args: ['inspect', TF, '--input-shape', '8,8'], exit: 0 },
  { name: 'inspect an ONNX model', args: ['inspect', ONNX, '--json'], exit: 0 },
  { name: 'convert a TF.js model', args: [...convertTf, '-o', 'out'], exit: 0, out: 'out' },
  { name: 'convert an ONNX model on onnxruntime leaves no .ses / mat-debug files', args: ['convert', ONNX, '--rank', '2', '--backend', 'ort', '-o', 'out'], exit: 0, out: 'out', spawn: true },
];

// ── exit statuses of the real process ────────────────────────────────────────────────────────────
const processes: Case[] = [
  { name: 'process: usage error exits 2', args: ['convert', TF, '--rank', 'abc', '-o', 'out'], exit: 2, message: /--rank/, spawn: true },
  { name: 'process: bad input exits 1', args: ['inspect', 'nowhere.onnx'], exit: 1, message: /nowhere\.onnx/, spawn: true },
  { name: 'process: -o the input exits 1', args: [...convertTf, '-o', 'model'], exit: 1, message: /holds the input/, spawn: true },
  { name: 'process: --version exits 0', args: ['--version'], exit: 0, spawn: true },
];

export const CASES: Case[] = [...usage, ...outputs, ...tfjs, ...onnxCases, ...inputs, ...processes];
