"""When is a label rare enough to search for? The loop's `SEARCH_SHARE`, tuned and checked on rare and common sets.

The loop (`strategies.loop_strategy`) searches for a label's positives while it has fewer than `MIN_POS` (40). On a
common-prevalence set that means searching through most of the first 200 labels, long after the label stopped being hard
to find: on `normal-9` (12% tools, 15% magnification views) the old rule lost to random on the mean AUC learning curve by
0.016 ± 0.004. `SEARCH_SHARE` stops the search for a label once its positives make up that share of the labels.

For each share, in fast mode (`simulate_arrays`, 20 labels a batch, 9 rounds after 20 seed labels, 10 repeats):

- common sets (`al_compare.DATA`, built as `al_compare.py` builds them): the loop's area under the mean-AUC learning curve
  minus random's, paired over repeats, with its standard error;
- rare sets (`/work/rare/<name>`, built by `/work/rare/build.sh`): positives in the first 100 labels, and the hold-out
  AP at 200 labels (the hold-out and validation patients), loop and random.

`inf` is the old rule (no share). The rule that picks the share, and the sets it reads, are in
`benchmarks/results/rare_share_rule.md`.

    python benchmarks/rare_share.py --shares inf,0.2,0.1,0.05 --common normal-9,hard-8 --rare /work/rare/demo-41 [--repeats 10]
"""
import argparse, sys
from pathlib import Path
import pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
import active_learn.strategies as strategies
from active_learn.simulate import simulate, simulate_arrays, vs_random, found
from al_compare import DATA, build, arrays

def common_set(name, repeats, out)->tuple:
    "(run, labels, random's curves) of common set `name`, built as `al_compare` builds it: `run(strategy, **kw)` simulates one strategy"
    _, seed, diff, thin = next(o for o in DATA if o[0]==name)
    proj, truth = build(out/f'{diff}{seed}', 110, seed, diff)
    xp, yp, xe, ye, labels, _, pp = arrays(proj, truth, thin, priors=True)
    run = lambda s, **kw: simulate_arrays(xp, yp, xe, ye, strategies=[s], labels=labels, seed_size=20, batch=20, rounds=9,
                                          repeats=repeats, seed=0, prior=pp, **kw)
    return run, labels, run('random')

def areas(df, labels)->dict:
    "The loop's area under the mean and each label's AUC curve minus random's, paired over repeats, and its SE"
    r = {}
    for col in ['auc_mean', *[f'auc_{o}' for o in labels]]:
        v = vs_random(df, col).set_index('strategy').loc['loop']
        r |= {f'{col[4:]}_diff': v['diff'], f'{col[4:]}_se': v['se']}
    return r

def common(name, shares, repeats, out):
    "One row per share: the loop's area under the mean-AUC curve minus random's on common set `name`"
    run, labels, rnd = common_set(name, repeats, out)
    rows = []
    for s in shares:
        strategies.SEARCH_SHARE = s
        df = pd.concat([rnd, run('loop').query("strategy!='full'")])
        r = dict(set=name, share=s) | areas(df, labels)
        r |= {f'pos100_{o}': df[(df.strategy=='loop') & (df.n_labels==100)][f'pos_{o}'].mean() for o in labels}
        rows.append(r)
        print(f"{name:18s} share {s:<5}: mean AUC area loop-random {r['mean_diff']:+.4f} ± {r['mean_se']:.4f} "
              "(" + ', '.join(f"{o} {r[o+'_diff']:+.4f} ± {r[o+'_se']:.4f}" for o in labels) + ")", flush=True)
    return rows

def rare(d:Path, shares, repeats, out):
    "One row per share: positives in the first 100 labels and hold-out AP at 200, loop and random, on rare set `d`"
    truth = next(o for o in (d/'demo_truth.csv', d/'truth.csv') if o.exists())
    kw = dict(seed_size=20, batch=20, rounds=9, repeats=repeats, mode='fast', verbose=False)
    rnd,_ = simulate(d/'project', truth, strategies=['random'], out=out/f'{d.name}-random', **kw)
    rows = []
    for s in shares:
        strategies.SEARCH_SHARE = s
        lp,_ = simulate(d/'project', truth, strategies=['loop'], out=out/f'{d.name}-loop-{s}', **kw)
        f = found(pd.concat([rnd, lp.query("strategy!='full'")]), at=[100, 200]).set_index(['strategy','n_labels'])
        labs = [c[4:] for c in f.columns if c.startswith('pos_') and not c.endswith('_se')]
        r = dict(set=d.name, share=s)
        for o in labs:
            r |= {f'pos100_{o}_{k}': f.loc[(k,100), 'pos_'+o] for k in ('loop','random')}
            r |= {f'pos100_{o}_{k}_se': f.loc[(k,100), 'pos_'+o+'_se'] for k in ('loop','random')}
            r |= {f'ap200_{o}_{k}': f.loc[(k,200), 'ap_'+o] for k in ('loop','random')}
            r |= {f'ap200_{o}_loop_se': lp[(lp.strategy=='loop') & (lp.n_labels==200)]['ap_'+o].sem()}
        rows.append(r)
        print(f"{d.name:18s} share {s:<5}: " + '; '.join(
            f"{o} first 100 loop {r[f'pos100_{o}_loop']:.1f} ± {r[f'pos100_{o}_loop_se']:.1f} vs random {r[f'pos100_{o}_random']:.1f} ± {r[f'pos100_{o}_random_se']:.1f}, "
            f"AP@200 loop {r[f'ap200_{o}_loop']:.3f} ± {r[f'ap200_{o}_loop_se']:.3f} vs random {r[f'ap200_{o}_random']:.3f}" for o in labs), flush=True)
    return rows

def cli(common, rare, shares:str):
    "Parse the command line and run `rare` on each rare set, then `common` on each common set, with each share; rows to --csv"
    ap = argparse.ArgumentParser()
    ap.add_argument('--shares', default=shares)
    ap.add_argument('--common', default='')
    ap.add_argument('--rare', default='')
    ap.add_argument('--repeats', type=int, default=10)
    ap.add_argument('--out', default='/tmp/al_compare')
    ap.add_argument('--csv', help='write the rows here')
    a = ap.parse_args()
    shares, out = [float(o) for o in a.shares.split(',')], Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for o in filter(None, a.rare.split(',')): rows += rare(Path(o), shares, a.repeats, out)
    for o in filter(None, a.common.split(',')): rows += common(o, shares, a.repeats, out)
    if a.csv: pd.DataFrame(rows).to_csv(a.csv, index=False)

if __name__=='__main__': cli(common, rare, 'inf,0.2,0.1,0.05')
