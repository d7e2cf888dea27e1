// Timing runner for the benchmarks: onnxruntime-node, CPU provider, one thread (intra/inter-op 1,
// sequential, graph optimizations all); times session.run in a loop after warm-up, excluding load.
// Usage: node ort_bench.js MODEL.onnx IN.npy [-o OUT.npy] [--seconds S] [--warmup N] [--min-runs N]
//        [--max-runs N]        (node ort_bench.js --baseline: the RSS of node + onnxruntime, no model)
// Prints one line: runs=N median_ms=... min_ms=... max_ms=... cpu_median_ms=... cpu_min_ms=... maxrss_kb=...
// load_ms=... (process CPU time per run, user + system, from process.cpuUsage).
'use strict';

const ort = require('onnxruntime-node');
const { readNpy, writeNpy } = require('./npy.js');

function parseArgs(argv) {
  const o = { seconds: 2.0, warmup: 2, minRuns: 5, maxRuns: 1000, out: null, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const more = i + 1 < argv.length;
    if (a === '-o' && more) o.out = argv[++i];
    else if (a === '--seconds' && more) o.seconds = Number(argv[++i]);
    else if (a === '--warmup' && more) o.warmup = Number(argv[++i]);
    else if (a === '--min-runs' && more) o.minRuns = Number(argv[++i]);
    else if (a === '--max-runs' && more) o.maxRuns = Number(argv[++i]);
    else if (a === '--baseline') o.baseline = true;
    else if (!a.startsWith('-')) o.files.push(a);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.baseline) {
    console.log(`maxrss_kb=${process.resourceUsage().maxRSS}`);
    return;
  }
  if (o.files.length !== 2) {
    throw new Error('usage: node ort_bench.js MODEL.onnx IN.npy [-o OUT.npy] [--seconds S] [--warmup N] ...');
  }
  const [model, input] = o.files;
  const t0 = nowMs();
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const loadMs = nowMs() - t0;
  if (session.inputNames.length !== 1) throw new Error(`${model}: this runner takes models with one input`);
  const a = readNpy(input);
  const feeds = { [session.inputNames[0]]: new ort.Tensor(a.type, a.data, a.dims) };
  let results;
  for (let i = 0; i < o.warmup; i++) results = await session.run(feeds);
  const times = [];
  const cpu = []; // process CPU time (user + system) per run: leaves out time other jobs take
  const start = nowMs();
  while (times.length < o.maxRuns && (times.length < o.minRuns || nowMs() - start < o.seconds * 1e3)) {
    const c = process.cpuUsage();
    const t = nowMs();
    results = await session.run(feeds);
    times.push(nowMs() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1e3);
  }
  const median = (v) => {
    v.sort((x, y) => x - y);
    const k = v.length;
    return k % 2 ? v[(k - 1) / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
  };
  const n = times.length;
  const med = median(times);
  const cmed = median(cpu);
  if (o.out) {
    const t = results[session.outputNames[0]];
    writeNpy(o.out, t.type, t.dims, t.data);
  }
  const rss = process.resourceUsage().maxRSS; // kilobytes
  console.log(`runs=${n} median_ms=${med.toFixed(4)} min_ms=${times[0].toFixed(4)} ` +
              `max_ms=${times[n - 1].toFixed(4)} cpu_median_ms=${cmed.toFixed(4)} cpu_min_ms=${cpu[0].toFixed(4)} ` +
              `maxrss_kb=${rss} load_ms=${loadMs.toFixed(1)}`);
}

main().catch((e) => {
  console.error(`ort_bench.js: ${e.message || e}`);
  process.exit(1);
});
