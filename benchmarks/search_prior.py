"""Priors in active search: `strategies.SEARCH_PRIOR`, tuned on rare sets under `benchmarks/results/search_prior_rule.md`.

While the loop searches for a label's positives, `strategies.search_scores` ranks the pool by the label's model, mixed
with its prior's rank by `SEARCH_PRIOR` (β). For each β, on each rare set (`/work/rare/<name>`, built by
`/work/rare/build.sh`), fast mode (`simulate`: 20 seed labels, 9 rounds of 20): positives of each label among the first
60, 100 and 200 labels, means and standard errors over repeats, and the fast stand-in's hold-out AP at 200 labels. β = −1
runs random sampling once per set, the baseline of the ratios. `--pick` prints the rule's table from the CSV.

    python benchmarks/search_prior.py --sets demo-41,demo-42,real-54,real-55,real-56 --betas -1,0,0.25,0.5,1 --repeats 6 --csv OUT.csv
    python benchmarks/search_prior.py --pick OUT.csv
"""
import argparse, time
from pathlib import Path
import numpy as np, pandas as pd
import active_learn.strategies as strategies
from active_learn.simulate import simulate, found

def run(sets, betas, repeats, out:Path, csv):
    rows = []
    for s in sets:
        d = Path('/work/rare')/s; truth = next(o for o in (d/'demo_truth.csv', d/'truth.csv') if o.exists())
        for b in betas:
            strat, t0 = ('random' if b<0 else 'loop'), time.time()
            strategies.SEARCH_PRIOR = max(b, 0.)
            df,_ = simulate(d/'project', truth, strategies=[strat], out=out/f'{s}-{b}', seed_size=20, batch=20, rounds=9,
                            repeats=repeats, mode='fast', verbose=False)
            f = found(df.query("strategy!='full'"), at=[60, 100, 200]).set_index(['strategy','n_labels'])
            labs = [c[4:] for c in f.columns if c.startswith('pos_') and not c.endswith('_se')]
            r = dict(set=s, beta=b, secs=round(time.time()-t0))
            for o in labs:
                for k in (60, 100, 200): r[f'pos{k}_{o}'], r[f'pos{k}_{o}_se'] = f.loc[(strat,k), 'pos_'+o], f.loc[(strat,k), 'pos_'+o+'_se']
                r[f'ap200_{o}'] = f.loc[(strat,200), 'ap_'+o]
            rows.append(r)
            print(f"{s} β {b}: " + '; '.join(f"{o} first 100 {r[f'pos100_{o}']:.1f} ± {r[f'pos100_{o}_se']:.1f}, "
                                             f"first 200 {r[f'pos200_{o}']:.1f}, AP@200 {r[f'ap200_{o}']:.3f}" for o in labs), flush=True)
            pd.DataFrame(rows).to_csv(csv, index=False)

def pick(csv):
    "The rule's table: per β, the mean AP at 200 over sets and labels, and the smallest ratio of first-100 positives to random's"
    d = pd.read_csv(csv); labs = [c[6:] for c in d.columns if c.startswith('ap200_')]
    rnd, rows = d[d.beta<0].set_index('set'), []
    for b,g in d[d.beta>=0].groupby('beta'):
        g = g.set_index('set')
        ratio = {(s,o): g.loc[s,f'pos100_{o}']/rnd.loc[s,f'pos100_{o}'] for s in g.index for o in labs}
        rows.append(dict(beta=b, mean_ap200=round(np.mean([g[f'ap200_{o}'].mean() for o in labs]), 4), min_ratio=round(min(ratio.values()), 2),
                         **{f'{s} {o}': f"{g.loc[s,f'pos100_{o}']:.1f}/{rnd.loc[s,f'pos100_{o}']:.1f}" for s in g.index for o in labs}))
    print(pd.DataFrame(rows).to_string(index=False))

if __name__=='__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--sets', default='demo-41,demo-42')
    ap.add_argument('--betas', default='-1,0,0.25,0.5,1')
    ap.add_argument('--repeats', type=int, default=6)
    ap.add_argument('--out', default='/tmp/search_prior')
    ap.add_argument('--csv', default='/tmp/search_prior/rows.csv')
    ap.add_argument('--pick', default=None, help='print the rule table of this CSV and stop')
    a = ap.parse_args()
    if a.pick: pick(a.pick)
    else:
        Path(a.out).mkdir(parents=True, exist_ok=True)
        run(a.sets.split(','), [float(o) for o in a.betas.split(',')], a.repeats, Path(a.out), a.csv)
