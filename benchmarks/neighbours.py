"""More like this: what the faiss index costs and finds against brute force, and how many neighbours of a positive are positives.

Scale (default): for N images of D-dimensional embeddings (float16 on disk, as runs and the backbone write them), the
build time, the time of one query and recall@50 of `NeighbourIndex(kind='faiss')` (IVF, about √N lists, float16 codes,
an eighth of the lists searched) against brute force (numpy over the float16 file, chunk by chunk) and, up to 100k,
the exact index (`kind='exact'`: unit float32 rows in memory), all measured in the same run, each standardising every
feature over the set first (as `NeighbourIndex` does by default), on two kinds of synthetic data: `clustered` (200 clusters on
a 32-dimensional subspace through a ReLU, plus noise: low intrinsic dimension, as a CNN's features have) and `gaussian`
(isotropic noise: the worst case for an inverted file, reported at the smaller sizes only).

    python benchmarks/neighbours.py [--sizes 10000,100000,1000000] [--d 1904] [--queries 20]

Like: on a generated project with its ground truth, for every positive image outside the hold-out, `neighbours.like`
(the 50 nearest unlabeled images outside the hold-out, pretrained embeddings: the cold start) and the share of them that
are positive (precision@50), mean +- standard error over the positives, beside the prevalence in the pool; also the share
that are positive and from another patient (the other views of the same breast are near copies), the share of positives
with any positive among their 50 ('any'), and the chance that 50 random images hold none.

    python benchmarks/neighbours.py --like /tmp/rare   # DEST of al-demo, with DEST/project ingested
"""
import argparse, time, tempfile, gc, sys
from pathlib import Path
import numpy as np
from active_learn.neighbours import NeighbourIndex, _moments

def make(kind, n, d, path, seed=0, chunk=50_000):
    "n x d float16 embeddings written to a .npy memmap at `path`"
    rng = np.random.default_rng(seed)
    W, C = rng.normal(size=(32, d)).astype(np.float32)/np.sqrt(32), rng.normal(size=(200, 32)).astype(np.float32)*2
    e = np.lib.format.open_memmap(path, 'w+', np.float16, (n, d))
    for i in range(0, n, chunk):
        m = min(chunk, n-i)
        if kind=='gaussian': x = rng.normal(size=(m, d)).astype(np.float32)
        else: x = np.maximum((C[rng.integers(0, 200, m)] + rng.normal(size=(m, 32)).astype(np.float32)) @ W, 0) + 0.1*rng.random((m, d), dtype=np.float32)
        e[i:i+m] = x
    e.flush(); del e
    return np.load(path, mmap_mode='r')

def timed(f):
    t = time.perf_counter(); r = f(); return r, time.perf_counter()-t

def brute(emb, q, k, mu, sd, chunk=50_000):
    "Brute force in numpy: cosine of queries `q` against every row of `emb` (read from disk in float16 chunks), each feature standardised by `mu`, `sd` as the index does; top-k ids"
    z = lambda x: (np.asarray(x, dtype=np.float32)-mu)/sd
    qn = z(q); qn /= np.linalg.norm(qn, axis=1, keepdims=True)
    s = np.empty((len(q), len(emb)), np.float32)
    for i in range(0, len(emb), chunk):
        x = z(emb[i:i+chunk])
        s[:, i:i+chunk] = (qn @ x.T)/np.maximum(np.linalg.norm(x, axis=1), 1e-12)
    top = np.argpartition(-s, k-1, axis=1)[:, :k]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, 1), axis=1), 1)

def scale(sizes, d, nq, kinds, k=50, n_lat=3):
    print(f"N x {d} float16 embeddings on disk (page-cached); recall@{k} over {nq} queries (images of the set): the share of brute force's top {k} that faiss returns")
    print(f"every feature standardised over the set, then cosine; brute: numpy over the float16 file, one query a pass ({n_lat} timed); exact: NeighbourIndex(kind='exact'), unit float32 rows in memory (up to 100k); faiss: NeighbourIndex(kind='faiss')")
    print(f"{'data':9} {'N':>9} | {'brute ms':>9} | {'exact build s':>13} {'query ms':>9} | {'faiss build s':>13} {'query ms':>9} {'vs brute':>8} | {'recall@50':>15} | nlist/nprobe")
    for n in sizes:
        for kind in kinds:
            if kind=='gaussian' and n>100_000: continue
            with tempfile.TemporaryDirectory(dir='/tmp') as tmp:
                emb = make(kind, n, d, Path(tmp)/'e.npy')
                ids = np.arange(n)
                q = np.asarray(emb[np.sort(np.random.default_rng(1).choice(n, nq, replace=False))], dtype=np.float32)
                mu, sd = _moments(emb, np.arange(n), 50_000)   # once, as the index's build does
                truth = brute(emb, q, k, mu, sd)
                tb = np.median([timed(lambda: brute(emb, q[j:j+1], k, mu, sd))[1] for j in range(n_lat)])*1000
                eb = eq = float('nan')
                if n<=100_000:
                    ex, eb = timed(lambda: NeighbourIndex(ids, emb, kind='exact'))
                    eq = np.median([timed(lambda: ex.search(x, k))[1] for x in q])*1000
                    del ex; gc.collect()
                fx, fb = timed(lambda: NeighbourIndex(ids, emb, kind='faiss'))
                res, tq = [], []
                for x in q: r, t = timed(lambda: fx.search(x, k)); res.append(r[1][0]); tq.append(t)
                rec = np.array([len(set(a) & set(b))/k for a, b in zip(truth, res)])
                fq = np.median(tq)*1000
                print(f"{kind:9} {n:>9,} | {tb:>9.1f} | {eb:>13.2f} {eq:>9.1f} | {fb:>13.1f} {fq:>9.2f} {fq/tb:>8.4f} | "
                      f"{rec.mean():.3f} +- {rec.std(ddof=1)/np.sqrt(len(rec)):.3f} | {fx.index.nlist}/{fx.index.nprobe}", flush=True)
                del fx, emb; gc.collect()

def like_figures(dest, k=50):
    from active_learn.core import Project
    from active_learn.demo import load_truth
    from active_learn.queues import pretrained_embeddings
    from active_learn.neighbours import like
    db = Project(Path(dest)/'project')
    t0 = time.time(); pretrained_embeddings(db); te = time.time()-t0
    t = load_truth(db, Path(dest)/'demo_truth.csv').set_index('image_id')
    im = {r['id']: r for r in db['images'].rows_where(select='id, split, patient_id')}
    pool = [i for i in t.index if im[i]['split']!='test']
    print(f"{dest}: {len(im):,} images, {len(pool):,} outside the hold-out; pretrained embeddings ({te:.0f} s); the {k} nearest unlabeled images outside the hold-out of each positive")
    print(f"{'label':12} {'positives':>9} {'prevalence':>10} | {'precision@50':>16} {'other patients':>16} | {'min':>5} {'median':>6} {'max':>5} {'any':>5} | {'P(no positive in 50 random)':>26}")
    for l in db.labels:
        pos = [i for i in pool if t.at[i, l]]
        prev = len(pos)/len(pool)
        p, po = [], []
        for i in pos:
            nb, _ = like(db, [i], n=k, run_id=None)
            y = np.array([t.at[int(o), l] for o in nb])
            other = np.array([im[int(o)]['patient_id']!=im[i]['patient_id'] for o in nb])
            p.append(y.mean()); po.append((y & other).mean())
        p, po = np.array(p), np.array(po)
        se = lambda a: a.std(ddof=1)/np.sqrt(len(a))
        print(f"{l:12} {len(pos):>9} {prev:>10.3f} | {p.mean():.3f} +- {se(p):.3f} {po.mean():.3f} +- {se(po):.3f} | {p.min():>5.2f} {np.median(p):>6.2f} {p.max():>5.2f} {(p>0).mean():>5.2f} | {(1-prev)**k:>26.3f}", flush=True)
    # the same search in numpy over the pool, raw (what `like` does) and with each feature standardised over the pool first
    from active_learn.queues import load_embeddings
    pid = np.array(pool); _, e = load_embeddings(db, None, pid)
    print(f"\nFor comparison, brute force in numpy over the {len(pid):,} pool images (precision@{k}, mean +- SE over the positives):")
    for nm, x in [('cosine, raw features', e), ('cosine, standardised (as like)', (e-e.mean(0))/(e.std(0)+1e-6))]:
        x = x/np.linalg.norm(x, axis=1, keepdims=True)
        out = []
        for l in db.labels:
            y = np.array([t.at[int(i), l] for i in pid]).astype(bool)
            s = x[y] @ x.T
            s[np.arange(y.sum()), np.flatnonzero(y)] = -np.inf   # not itself
            top = np.argsort(-s, axis=1)[:, :k]
            p = y[top].mean(1)
            out.append(f"{l} {p.mean():.3f} +- {p.std(ddof=1)/np.sqrt(len(p)):.3f}")
        print(f"  {nm:32} " + '   '.join(out), flush=True)

if __name__=='__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--sizes', default='10000,100000,1000000')
    ap.add_argument('--d', type=int, default=1904)
    ap.add_argument('--queries', type=int, default=20)
    ap.add_argument('--kinds', default='clustered,gaussian')
    ap.add_argument('--like', default=None, help='DEST of al-demo (with DEST/project): precision of the neighbours of each positive')
    a = ap.parse_args()
    if a.like: like_figures(a.like)
    else: scale([int(o) for o in a.sizes.split(',')], a.d, a.queries, a.kinds.split(','))
