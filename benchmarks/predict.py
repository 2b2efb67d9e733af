"""Pool prediction speed: cached thumbnails to confidences in the database, against two ceilings on pre-made tensors.

A demo project is made (synthetic DICOMs, ingested with 512 px thumbnails, part of it labeled), its pool grown to `--pool`
images by repeating rows (same thumbnails), and one short run trained (`train(..., predict=False)`), outside the timing. Then, alternating, `--reps` times each, in images per second:
  - pipeline: `predict_pool(db, run_id)`: reads ids in chunks, takes each model input from the project's input cache
    (`train.InputCache`: uint8 inputs at model size, memory-mapped), runs the model (ONNX Runtime on CPU, PyTorch on GPU),
    writes `preds` rows and the embeddings files. The first call also exports the model to ONNX and fills the cache; its
    time is printed separately and not used for the ratio.
  - pipeline_cold: the same with the cache deleted before each call: every thumbnail is decoded (DataLoader workers, the
    validation transforms), written to the cache and scored, as on the first scoring with a new size.
  - pipeline_nocache: `predict_pool(..., cache=False)`, the path before the cache: decoding every thumbnail, nothing kept.
  - torch ceiling: a bare `model(x)` loop in PyTorch (eval, inference mode; channels_last too) on batches of the same
    images (the first 256), already decoded and normalised in memory.
  - onnxruntime ceiling: the same exported ONNX model run by ONNX Runtime on the same in-memory batches.
Reported: each best rate, CPU milliseconds per image (this process plus its finished DataLoader workers), and for
each pipeline, pipeline / faster ceiling (goal >= 0.8 for the pipeline): best-of, median of the ratios within each rep, and in CPU
time, which other jobs on a shared machine disturb much less than wall time.

OpenMP threads are told not to spin (OMP_WAIT_POLICY=PASSIVE), the same for all sides: on a machine shared with other jobs,
spinning threads make timings meaningless.

    python benchmarks/predict.py [--size 512] [--bs 32] [--patients 40] [--reps 3] [--pool 600] [--workers N] [--variants 0,1]

`--size` is `train`'s: the long side of the tail recipe's portrait input (`input_shape(512)` is 512x416, 224 is 224x192).
"""
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import argparse, hashlib, resource, shutil, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from active_learn.core import Project
from active_learn.demo import make_demo, label_from_truth
from active_learn.ingest import ingest
from active_learn.train import train, predict_pool, load_run_learner
from active_learn.runtime import ort_session

def cpu()->float:
    "CPU seconds of this process and its finished children (the DataLoader workers)"
    a,b = resource.getrusage(resource.RUSAGE_SELF),resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime+a.ru_stime+b.ru_utime+b.ru_stime

def learn_shape(db, run_id): return __import__('json').loads(db['runs'].get(run_id)['settings'])['shape']

def grow_pool(db, n:int):
    "Repeat the project's image rows (new hashes, same patients and thumbnails) until the pool has about `n` images"
    rows = [dict(r) for r in db['images'].rows_where("split!='test'")]
    k, new = 0, []
    while len(rows)+len(new) < n:
        r = dict(rows[k%len(rows)]); k += 1
        for c in ('id','split','rnd','added'): r.pop(c)
        r['sha1'] = hashlib.sha1(f"{r['sha1']}-{k}".encode()).hexdigest()
        new.append(r)
    db.add_images(new)

def main(size=512, bs=32, patients=40, reps=3, workers=None, pool=600, variants=(), ceil_n=256, eager=True):
    tmp = Path(tempfile.mkdtemp())
    try:
        src, truth = make_demo(tmp/'demo', n_patients=patients, seed=0, size=1024)
        ingest([src], tmp/'proj', verbose=False)
        db = Project(tmp/'proj')
        label_from_truth(db, truth, 60)
        run_id = train(db, epochs=1, freeze_epochs=1, bs=bs, size=size, predict=False, show=False, num_workers=workers)
        root = db.path
        grow_pool(db, pool)
        rows = db.execute("select id, thumb from images where split!='test' order by id").fetchall()
        n = len(rows)
        print(f"{n} pool images (512 px thumbnails), model input {tuple(learn_shape(db, run_id))}, bs {bs}, {workers} workers, {torch.get_num_threads()} threads, "
              f"device {'cuda' if torch.cuda.is_available() else 'cpu'}; ceilings on the first {min(n, ceil_n)}")

        t = time.perf_counter(); predict_pool(db, run_id, bs=bs, num_workers=workers); first = time.perf_counter()-t
        print(f"first predict_pool (includes the ONNX export): {first:.1f}s")
        learn = load_run_learner(db, run_id, num_workers=workers)
        df = pd.DataFrame(rows, columns=['image_id','thumb']); df['thumb'] = [str(root/o) for o in df.thumb]
        xs = [b[0].as_subclass(torch.Tensor).cpu().contiguous() for b in learn.dls.test_dl(df.iloc[:ceil_n], bs=bs, num_workers=0)]
        nc = sum(len(x) for x in xs)
        xn = [x.numpy() for x in xs]
        model = learn.model.eval().cpu()
        model_cl = None
        sess = ort_session(root/'models'/f'run-{run_id}.onnx', torch.get_num_threads())

        def pipeline(): predict_pool(db, run_id, bs=bs, num_workers=workers)
        def cold(): shutil.rmtree(root/'cache'); predict_pool(db, run_id, bs=bs, num_workers=workers)
        def nocache(): predict_pool(db, run_id, bs=bs, num_workers=workers, cache=False)
        def pipe_w(k): return lambda: predict_pool(db, run_id, bs=bs, num_workers=k, cache=False)
        def bare():
            with torch.inference_mode():
                for x in xs: model(x)
        def bare_cl():
            nonlocal model_cl
            if model_cl is None: model_cl = __import__('copy').deepcopy(model).to(memory_format=torch.channels_last)
            with torch.inference_mode():
                for x in xs: model_cl(x.contiguous(memory_format=torch.channels_last))
        def ort():
            for x in xn: sess.run(None, {'x': x})
        fs = dict(pipeline=pipeline, pipeline_cold=cold, pipeline_nocache=nocache, **(dict(torch=bare, torch_channels_last=bare_cl) if eager else {}), onnxruntime=ort,
                  **{f'pipeline_nocache_workers={k}':pipe_w(k) for k in variants})
        cnt = {k: nc if k in ('torch','torch_channels_last','onnxruntime') else n for k in fs}
        ts,cs = {k:[] for k in fs},{k:[] for k in fs}
        if eager: bare()
        ort()   # warm up
        for r in range(reps):
            for k,f in fs.items():
                t,c = time.perf_counter(),cpu(); f(); ts[k].append(time.perf_counter()-t); cs[k].append(cpu()-c)
            print(f"rep {r}: " + ', '.join(f"{k} {cnt[k]/ts[k][-1]:.1f}" for k in fs) + " img/s", flush=True)
        rate = {k: cnt[k]/min(v) for k,v in ts.items()}
        cms = {k: 1000*min(v)/cnt[k] for k,v in cs.items()}
        ceil = max([o for o in ('torch','torch_channels_last','onnxruntime') if o in rate], key=lambda k: rate[k])
        print('\n' + '\n'.join(f"{k:22s} best {v:7.1f} img/s   {cms[k]:6.1f} CPU ms/img" for k,v in rate.items()))
        med = lambda a,b: float(np.median([(cnt[a]/x)/(cnt[b]/y) for x,y in zip(ts[a], ts[b])]))
        if eager: print(f"pipeline / torch ceiling:       {rate['pipeline']/max(rate['torch'], rate['torch_channels_last']):.2f}x")
        for k in [o for o in fs if o.startswith('pipeline')]:
            print(f"{k} / onnxruntime ceiling: {rate[k]/rate['onnxruntime']:.2f}x best-of, {med(k,'onnxruntime'):.2f}x median of same-rep ratios, "
                  f"{cms['onnxruntime']/cms[k]:.2f}x in CPU time per image")
        print(f"pipeline / faster ceiling ({ceil}): {rate['pipeline']/rate[ceil]:.2f}x (goal >= 0.8x)")
        test = db.execute("select count(*) from preds p join images i on i.id=p.image_id where p.run_id=? and i.split='test'", [run_id]).fetchone()[0]
        assert test==0 and db.execute("select count(*) from preds where run_id=?", [run_id]).fetchone()[0]==n
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', type=int, default=512); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--patients', type=int, default=40); ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--workers', type=int, default=None, help='decoding processes of the pipeline (default: the library default)')
    ap.add_argument('--pool', type=int, default=600, help='grow the pool to about this many images by repeating rows')
    ap.add_argument('--no-eager', action='store_true', help='leave out the eager PyTorch ceilings (slow at 512 px)')
    ap.add_argument('--variants', type=str, default='', help='also time pipeline_nocache with these numbers of workers, e.g. 0,1')
    a = ap.parse_args()
    variants = [int(o) for o in a.variants.split(',') if o.strip()]
    main(a.size, a.bs, a.patients, a.reps, a.workers, a.pool, variants, eager=not a.no_eager)
