"""Rare positives from zero labels: how many positives the loop's first labels hold, against a random draw.

On a rare set (`al-demo --p-tool 0.025 --p-mag 0.025`, ingested, pretrained embeddings computed: `/work/rare/build.sh`),
each repeat starts from no labels and follows the loop's rule, `strategies.loop_strategy`:

- before any model, `priors.cold_start` (the header's magnification hint and the metal score, in turns, with a random share);
- then, each round, a fast stand-in for the model (a logistic regression per label on the frozen backbone's embeddings, as
  `simulate` uses) and active search (`strategies.active_search`) for the labels still short of `MIN_POS` positives, a label
  with no positive yet ranked by its prior; with a random share `explore`;
- once every label has `MIN_POS` positives, the default strategy (stratified).

Random is a uniform draw of the same number of labels from the same pool (train and validation patients; the hold-out is
never drawn). Printed per label: positives found after each number of labels, mean and standard error over repeats, and
the ratio to random's.

    python benchmarks/rare_start.py /work/rare/demo-41 [--repeats 10] [--batch 20] [--labels 200] [--explore 0.25] [--min-pos 10] [--balance]
"""
import argparse, time, json
from pathlib import Path
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, average_precision_score
from active_learn.core import Project
from active_learn.queues import load_embeddings
from active_learn.priors import cold_start, prior_scores, PRIORS
from active_learn.strategies import loop_strategy, select_batch, MIN_POS
from active_learn.simulate import _truth

def truth_of(d:Path, db):
    csv = next(o for o in (d/'demo_truth.csv', d/'truth.csv') if o.exists())
    return _truth(db, csv).set_index('image_id')

def proxy_probs(x, lab, y, prior_rank):
    "[N, L] probabilities for the pool: a logistic regression per label with a positive, else that label's prior rank"
    out = np.empty((len(x), y.shape[1]))
    for j in range(y.shape[1]):
        yl = y[lab, j]
        if 0<yl.sum()<len(yl): out[:,j] = LogisticRegression(C=0.1, class_weight='balanced', max_iter=300).fit(x[lab], yl).predict_proba(x)[:,1]
        else: out[:,j] = prior_rank[:,j]
    return out

def eval_ap(x, y, lab, xe, ye)->list:
    "Average precision on the hold-out of the fast stand-in trained on the labels `lab`: what a reader would get from them (prevalence when a label has no positive)"
    res = []
    for j in range(y.shape[1]):
        yl = y[lab, j]
        if 0<yl.sum()<len(yl): p = LogisticRegression(C=0.1, class_weight='balanced', max_iter=300).fit(x[lab], yl).predict_proba(xe)[:,1]
        else: p = np.zeros(len(xe))
        res.append(average_precision_score(ye[:,j], p) if 0<ye[:,j].sum() else np.nan)
    return res

def run_loop(db, pool, x, y, prior_rank, n_labels, batch, explore, min_pos, seed, balance=False):
    "Ids labeled, in order, by the loop's rule"
    lab = []   # positions into pool
    pos_of = {int(i):k for k,i in enumerate(pool)}
    while len(lab)<n_labels:
        n = min(batch, n_labels-len(lab))
        has_model = len(lab)>0
        strat, need = loop_strategy(y[lab].sum(0) if lab else np.zeros(y.shape[1]), has_model, min_pos)
        if strat=='cold':
            ids = cold_start(db, n, explore=explore, seed=seed+len(lab), exclude=[int(pool[k]) for k in lab])
            new = [pos_of[i] for i in ids]
        else:
            free = np.setdiff1d(np.arange(len(pool)), lab)
            p = proxy_probs(x, lab, y, prior_rank)[free]
            new = free[select_batch(n, strat, probs=p, emb=x[free], need=need, explore=explore, seed=seed+len(lab),
                                     n_pos=y[lab].sum(0) if balance else None)].tolist()
        lab += new
    return lab

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sets', nargs='+')
    ap.add_argument('--repeats', type=int, default=10)
    ap.add_argument('--batch', type=int, default=20)
    ap.add_argument('--labels', type=int, default=200)
    ap.add_argument('--explore', type=float, default=0.25)
    ap.add_argument('--min-pos', type=int, default=MIN_POS)
    ap.add_argument('--random-to', type=int, default=600)
    ap.add_argument('--balance', action='store_true', help="active search's picks go to the labels expected to have fewest positives (`active_search`'s n_pos; default: the labels take turns, as the loop does)")
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    rows = []
    for s in a.sets:
        d = Path(s); db = Project(d/'project'); t0 = time.time()
        pool = db.pool_ids()
        t = truth_of(d, db).reindex(pool)
        y = t[db.labels].values.astype(int)
        ids, emb = load_embeddings(db, None, pool)
        assert (ids==pool).all()
        mu,sd = emb.mean(0),emb.std(0)+1e-6
        pca = PCA(64, random_state=0).fit((emb-mu)/sd); x = pca.transform((emb-mu)/sd)
        ps = prior_scores(db, pool)
        te = truth_of(d, db); test = np.array([r['id'] for r in db['images'].rows_where("split='test'", select='id')])
        eids, eemb = load_embeddings(db, None, test)
        xe = pca.transform((eemb-mu)/sd); ye = te.reindex(eids)[db.labels].values.astype(int)
        prior_rank = np.stack([ps[PRIORS[o]].rank(pct=True).values if o in PRIORS else np.full(len(pool), .5) for o in db.labels], 1)
        print(f"{d.name}: pool {len(pool)} images, positives {dict(zip(db.labels, y.sum(0).tolist()))} "
              f"({', '.join(f'{v/len(pool):.1%}' for v in y.sum(0))})", flush=True)
        for j,o in enumerate(db.labels):   # each prior measured on its own, before the loop uses it
            if o not in PRIORS: continue
            sc = ps[PRIORS[o]].values; yj = y[:,j]
            top = np.argsort(-sc)[:50]
            fired = sc>0.5 if PRIORS[o]=='mag_header' else np.zeros(len(sc), bool)
            print(f"  prior {PRIORS[o]} for {o}: ROC AUC {roc_auc_score(yj, sc):.3f}, AP {average_precision_score(yj, sc):.3f} (prevalence {yj.mean():.3f}); "
                  f"positives among its top 50: {yj[top].sum()}" + (f"; fires on {fired.sum()}, of which {yj[fired].sum()} positive, "
                  f"{yj[fired].sum()}/{yj.sum()} of the positives" if PRIORS[o]=='mag_header' else ''), flush=True)
        for r in range(a.repeats):
            for name in ('random', 'loop'):
                top = max(a.labels, a.random_to) if name=='random' else a.labels
                order = (np.random.default_rng([r, 7]).permutation(len(pool))[:top].tolist() if name=='random' else
                         run_loop(db, pool, x, y, prior_rank, a.labels, a.batch, a.explore, a.min_pos, seed=1000*r, balance=a.balance))
                for n in range(a.batch, top+1, a.batch):
                    ap = eval_ap(x, y, order[:n], xe, ye) if n%100==0 else [np.nan]*y.shape[1]
                    rows.append(dict(set=d.name, repeat=r, policy=name, n_labels=n, **{f'pos_{o}':int(y[order[:n], j].sum()) for j,o in enumerate(db.labels)},
                                     **{f'ap_{o}':v for o,v in zip(db.labels, ap)}))
        print(f"  {a.repeats} repeats in {time.time()-t0:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    cols = [c for c in df.columns if c.startswith('pos_')]
    g = df.groupby(['set','policy','n_labels'])[cols + [c for c in df.columns if c.startswith('ap_')]].agg(['mean','sem'])
    for (st,n),_ in df.groupby(['set','n_labels']):
        if n not in (20, 60, 100, 200): continue
        line = f"{st} {n:4d} labels:"
        for c in cols:
            lp,rp = g.loc[(st,'loop',n),(c,'mean')], g.loc[(st,'random',n),(c,'mean')]
            line += (f"  {c[4:]} loop {lp:5.1f} ± {g.loc[(st,'loop',n),(c,'sem')]:.1f}, random {rp:4.1f} ± {g.loc[(st,'random',n),(c,'sem')]:.1f}"
                     f" ({lp/max(rp,1e-9):.1f}x)")
        print(line)
    for st in df.set.unique():
        for c in [c for c in df.columns if c.startswith('ap_')]:
            f = lambda p,n: f"{g.loc[(st,p,n),(c,'mean')]:.3f} ± {g.loc[(st,p,n),(c,'sem')]:.3f}"
            print(f"{st} hold-out AP of the fast stand-in, {c[3:]}: loop at {a.labels} {f('loop', a.labels)}; random at " +
                  ', '.join(f"{n} {f('random', n)}" for n in range(100, max(a.labels, a.random_to)+1, 100)))
    if a.out: df.to_csv(a.out, index=False)

if __name__=='__main__': main()
