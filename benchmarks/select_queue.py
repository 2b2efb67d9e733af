"""Cost of materialising the label app's queues with `refresh_queue` on a large synthetic project.

A project of N images (default 100k) gets a finished run with predictions for every pool image and 1280-d float16
embeddings. Prints the seconds per `refresh_queue` call for each queue/strategy (`stratified`, the default, included), and, as the baseline measured in
the same run, k-center greedy over the whole pool (what an unbounded diversity pick would cost) for the same batch.

    python benchmarks/select_queue.py [--n 100000] [--q 500]
"""
import argparse, time, tempfile, json
from pathlib import Path
import numpy as np
from active_learn.core import *
from active_learn.strategies import *
from active_learn.queues import *
from active_learn.test_utils import fake_run as _fake_run

def build(path, n, d=1280, labeled=2000, seed=0):
    db = create_project(path)
    rng = np.random.default_rng(seed)
    for i in range(0, n, 50000):
        db.add_images([dict(sha1=f'{j:040x}', patient_id=f'p{j//4}', thumb=f'thumbs/{j}.png') for j in range(i, min(n, i+50000))])
    ids = np.array([o for o, in db.execute("select id from images where split!='test' order by id")])
    with db.conn:
        db['labels'].insert_all([dict(image_id=int(i), biopsy_tool=int(rng.random()<0.2), mag_view=int(rng.random()<0.1),
                                      annotator='a', n_annotators=1, conflict=0, updated=now_iso()) for i in ids[:labeled]])
    p = rng.beta(0.5, 0.5, size=(len(ids), 2))
    rid = db['runs'].insert(dict(started=now_iso(), finished=now_iso(), status='done', labels=json.dumps(db.labels))).last_pk
    from active_learn.strategies import uncertainty
    u = uncertainty(p)
    with db.conn:
        db['preds'].insert_all(dict(run_id=rid, image_id=int(i), biopsy_tool=float(a), mag_view=float(b), uncert=float(c), at='')
                               for i,(a,b),c in zip(ids, p, u))
    fe, fi = db.emb_paths(rid)
    e = np.lib.format.open_memmap(fe, 'w+', np.float16, (len(ids), d))
    for i in range(0, len(ids), 20000): e[i:i+20000] = rng.normal(size=(min(20000, len(ids)-i), d))
    e.flush(); del e
    np.save(fi, ids)
    return db, rid

def timeit(f, reps=3):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    return min(ts)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=100000)
    ap.add_argument('--q', type=int, default=500, help='queue rows per refresh')
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    t = time.perf_counter(); db, rid = build(tmp/'p', a.n); print(f'built {a.n} images in {time.perf_counter()-t:.0f}s')
    res = {}
    for s in ('random','stratified','entropy','margin','hybrid','kcenter','typiclust','typiclust_hybrid'):
        res[f'learn/{s}'] = timeit(lambda: refresh_queue(db, 'learn', n=a.q, strategy=s, seed=0))
    for q in ('holdout','confident'): res[q] = timeit(lambda: refresh_queue(db, q, n=a.q))
    res['review'] = timeit(lambda: refresh_queue(db, 'review', n=a.q), reps=1)
    pool = db.pool_ids()
    ids, emb = load_embeddings(db, rid, pool)
    lab = load_embeddings(db, rid, np.setdiff1d(np.load(db.emb_paths(rid)[1]), pool))[1]
    base = timeit(lambda: kcenter_greedy(emb, 50, lab), reps=1)
    for k,v in res.items(): print(f'{k:18s} {v*1000:8.0f} ms')
    print(f'baseline: k-center over the whole pool ({len(pool)} images), 50 picks: {base*1000:.0f} ms')
    print(f'ratio hybrid/baseline {res["learn/hybrid"]/base:.3f}, kcenter(subsampled, {a.q} picks)/baseline {res["learn/kcenter"]/base:.3f}, '
          f'typiclust (subsampled, {a.q} picks)/baseline {res["learn/typiclust"]/base:.3f}, '
          f'stratified (the default; subsampled, {a.q} picks)/baseline {res["learn/stratified"]/base:.3f}')

if __name__=='__main__': main()
