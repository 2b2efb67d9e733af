"""Exploratory, fast mode only: the loop's `SEARCH_SHARE` test on an unbiased prevalence estimate.

`strategies.loop_strategy` stops searching for a label once its positives are `SEARCH_SHARE` (5%) of the labels. The
labels it counts include the ones it picked for their promise (the priors' cold start, the search), so on a rare set the
cold start alone passes the test and the loop never searches (`results/search_prior_rule.md`). Here the loop is replayed
with the test on the labels drawn without regard to promise only: the cold start's random share, the search batches'
random share and the stratified batches (`v1`); the same within a budget of the first 100 labels only, stratified after
(`v2`); against the loop as it is (`v0`, which reproduces `simulate_arrays`'s `loop` exactly), with `SEARCH_PRIOR` β. The product's queue does not record how a label was drawn, so this is a replay
of `simulate_arrays`'s loop branch, not a product setting; it measures whether such a record would be worth keeping.

    python benchmarks/unbiased_share.py --rare demo-41,demo-42,real-56 --common normal-9,hard-8 [--repeats 6]
"""
import argparse, sys, time
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
import active_learn.strategies as st
from active_learn.core import Project
from active_learn.simulate import LightHead, _aucs, _aps, _truth, simulate_arrays
from active_learn.strategies import loop_strategy, select_batch, active_search, search_scores, COLD_EXPLORE, SEARCH_EXPLORE, SEARCH_SHARE, MIN_POS, DEFAULT_EXPLORE
from active_learn.queues import pretrained_embeddings
from active_learn.priors import prior_picks, label_priors
from al_compare import DATA, build, arrays
from rare_share import areas

def loop_arrays(x_pool, y_pool, x_eval, y_eval, labels, prior, repeats=6, seed=0, seed_size=20, batch=20, rounds=9, mode='v0'):
    "`simulate_arrays`'s loop for `mode` 'v0' (as it is), 'v1' (the share test on the labels drawn without regard to promise) or 'v2' (v1 within the first 100 labels)"
    y_pool, y_eval = np.asarray(y_pool).reshape(len(x_pool), -1), np.asarray(y_eval).reshape(len(x_eval), -1)
    pri = np.asarray(prior, np.float64).reshape(y_pool.shape)
    mu, sd = x_pool.mean(0), x_pool.std(0)+1e-6
    xp, xe = ((np.asarray(x_pool, np.float32)-mu)/sd), ((np.asarray(x_eval, np.float32)-mu)/sd)
    rows = []
    for rep in range(repeats):
        k = seed_size - int(round(COLD_EXPLORE*seed_size))
        lab = prior_picks(pri, k, seed=seed+rep).tolist(); unb = [False]*len(lab)
        extra = [int(i) for i in np.random.default_rng(seed+rep+1).permutation(len(xp)) if int(i) not in set(lab)][:seed_size-len(lab)]
        lab += extra; unb += [True]*len(extra); nsearch = 0
        for r in range(rounds+1):
            h = LightHead(seed=seed+rep).fit(xp[lab], y_pool[lab])
            p = h.predict(xe); a = _aucs(y_eval, p)
            rows.append(dict(strategy='loop', repeat=rep, round=r, n_labels=len(lab), **{f'auc_{l}':v for l,v in zip(labels, a)}, auc_mean=np.nanmean(a),
                             **{f'ap_{l}':v for l,v in zip(labels, _aps(y_eval, p))}, **{f'pos_{l}':int(v) for l,v in zip(labels, y_pool[lab].sum(0))}, searches=nsearch))
            if r==rounds: break
            un, npos, s_ = np.setdiff1d(np.arange(len(xp)), lab), y_pool[lab].sum(0), seed*1000+rep*100+r
            if mode=='v0': name, need = loop_strategy(npos, True, len(lab))
            else:
                u = np.array(unb)
                need = (npos<MIN_POS) & ((npos==0) | (y_pool[np.array(lab)[u]].sum(0)<SEARCH_SHARE*u.sum())) & (mode=='v1' or len(lab)<100)
                name = 'search' if need.any() else 'stratified'
            if name=='search':
                nsearch += 1
                pr = search_scores(h.predict(xp[un]), pri[un], npos)
                pos = select_batch(batch, 'search', probs=pr, need=need, explore=SEARCH_EXPLORE, seed=s_)
                searched = set(active_search(pr, batch-int(round(SEARCH_EXPLORE*batch)), need, seed=s_).tolist())
                lab += un[pos].tolist(); unb += [int(o) not in searched for o in pos]; continue
            pos = select_batch(batch, 'stratified', n_pool=len(un), emb=xp[un], lab_emb=xp[lab], explore=DEFAULT_EXPLORE, seed=s_)
            lab += un[pos].tolist(); unb += [True]*len(pos)
    return pd.DataFrame(rows)

def rare_arrays(name):
    d = Path('/work/rare')/name; db = Project(d/'project'); t = _truth(db, next(o for o in (d/'demo_truth.csv', d/'truth.csv') if o.exists()))
    sp = {r['id']:r['split'] for r in db['images'].rows_where(select='id, split')}; t = t[t.image_id.isin(sp)]
    ev = t.image_id.map(sp).isin(['test','valid']).to_numpy(); tp, te = t[~ev], t[ev]
    ids, emb = pretrained_embeddings(db, ids=t.image_id.to_numpy()); e = dict(zip(ids.tolist(), range(len(ids)))); emb = np.asarray(emb, np.float32)
    return (emb[[e[i] for i in tp.image_id]], tp[db.labels].to_numpy(int), emb[[e[i] for i in te.image_id]], te[db.labels].to_numpy(int),
            db.labels, label_priors(db, tp.image_id.to_numpy()))

RUNS = (('v0', 0.), ('v1', 0.), ('v1', 1.), ('v2', 1.))

def rare(names, repeats):
    for s in names:
        xp, yp, xe, ye, labels, pp = rare_arrays(s)
        for mode,b in RUNS:
            st.SEARCH_PRIOR = b
            df = loop_arrays(xp, yp, xe, ye, labels, pp, repeats, mode=mode)
            f = lambda k,o: (df[df.n_labels==k][o].mean(), df[df.n_labels==k][o].sem())
            print(f"{s:16s} {mode} β {b}: " + '; '.join(f"{o} first 100 {f(100,'pos_'+o)[0]:.1f} ± {f(100,'pos_'+o)[1]:.1f}, AP@200 {f(200,'ap_'+o)[0]:.3f}" for o in labels)
                  + f", search batches {df.groupby('repeat').searches.max().mean():.1f}", flush=True)

def common(names, repeats, out=Path('/tmp/al_compare')):
    for name in names:
        _, sd, diff, thin = next(o for o in DATA if o[0]==name)
        xp, yp, xe, ye, labels, _, pp = arrays(*build(out/f'{diff}{sd}', 110, sd, diff), thin, priors=True)
        rnd = simulate_arrays(xp, yp, xe, ye, strategies=['random'], labels=labels, seed_size=20, batch=20, rounds=9, repeats=repeats, seed=0).query("strategy!='full'")
        for mode,b in RUNS:
            st.SEARCH_PRIOR = b
            df = loop_arrays(xp, yp, xe, ye, labels, pp, repeats, mode=mode)
            a = areas(pd.concat([rnd, df]), labels)
            print(f"{name:16s} {mode} β {b}: mean AUC area loop-random {a['mean_diff']:+.4f} ± {a['mean_se']:.4f} (" + ', '.join(f"{o} {a[o+'_diff']:+.4f} ± {a[o+'_se']:.4f}" for o in labels)
                  + f"), search batches {df.groupby('repeat').searches.max().mean():.1f}", flush=True)

if __name__=='__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--rare', default=''); ap.add_argument('--common', default=''); ap.add_argument('--repeats', type=int, default=6)
    ap.add_argument('--runs', default=None, help='mode:β pairs, e.g. v2:1,v1:1 (default: all of RUNS)')
    a = ap.parse_args()
    if a.runs: RUNS = tuple((m, float(b)) for m,b in (o.split(':') for o in a.runs.split(',')))
    rare(list(filter(None, a.rare.split(','))), a.repeats)
    common(list(filter(None, a.common.split(','))), a.repeats)
