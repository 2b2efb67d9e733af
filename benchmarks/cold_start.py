"""The random share of the loop's first batch, `COLD_EXPLORE`, tuned and reported under `benchmarks/results/cold_start_rule.md`.

For each share, in fast mode (20 seed labels, 9 rounds of 20, 10 repeats):

- common sets (`al_compare.DATA`): the loop's area under the mean-AUC learning curve minus random's, paired over repeats,
  with its standard error, overall and per label;
- rare sets (`/work/rare/<name>`, built by `/work/rare/build.sh`): positives of each label in the first 100 labels (mean
  ± SE over repeats, and the difference from the first share, paired over repeats), and the AP at 200 labels.

    python benchmarks/cold_start.py --shares 0.25,0.5,1.0 --common normal-9,hard-8 --rare /work/rare/demo-41 [--repeats 10]
"""
import sys
from pathlib import Path
import pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from active_learn.simulate import simulate
from rare_share import cli, common_set, areas

def common(name, shares, repeats, out):
    "One row per share: the loop's area under the mean-AUC curve minus random's on common set `name`"
    run, labels, rnd = common_set(name, repeats, out)
    rows = []
    for c in shares:
        df = pd.concat([rnd, run('loop', cold_explore=c).query("strategy!='full'")])
        r = dict(set=name, cold_explore=c) | areas(df, labels)
        rows.append(r)
        print(f"{name:18s} cold {c:<4}: mean AUC area loop-random {r['mean_diff']:+.4f} ± {r['mean_se']:.4f} ("
              + ', '.join(f"{o} {r[o+'_diff']:+.4f} ± {r[o+'_se']:.4f}" for o in labels) + ")", flush=True)
    return rows

def rare(d:Path, shares, repeats, out):
    truth = next(o for o in (d/'demo_truth.csv', d/'truth.csv') if o.exists())
    kw = dict(seed_size=20, batch=20, rounds=9, repeats=repeats, mode='fast', verbose=False)
    rnd,_ = simulate(d/'project', truth, strategies=['random'], out=out/f'{d.name}-random', **kw)
    labs = [c[4:] for c in rnd.columns if c.startswith('pos_')]
    at = lambda df, s, n, col: df[(df.strategy==s) & (df.n_labels==n)].set_index('repeat')[col]
    rows, first = [], None
    for c in shares:
        lp,_ = simulate(d/'project', truth, strategies=['loop'], cold_explore=c, out=out/f'{d.name}-loop-{c}', **kw)
        first = lp if first is None else first
        r = dict(set=d.name, cold_explore=c)
        for o in labs:
            p, p0, pr = at(lp,'loop',100,'pos_'+o), at(first,'loop',100,'pos_'+o), at(rnd,'random',100,'pos_'+o)
            r |= {f'pos100_{o}': p.mean(), f'pos100_{o}_se': p.sem(), f'pos100_{o}_vs_first': (p-p0).mean(),
                  f'pos100_{o}_vs_first_se': (p-p0).sem(), f'pos100_{o}_random': pr.mean(),
                  f'ap200_{o}': at(lp,'loop',200,'ap_'+o).mean(), f'ap200_{o}_se': at(lp,'loop',200,'ap_'+o).sem(),
                  f'ap200_{o}_random': at(rnd,'random',200,'ap_'+o).mean()}
        rows.append(r)
        print(f"{d.name:18s} cold {c:<4}: " + '; '.join(
            f"{o} first 100 {r[f'pos100_{o}']:.1f} ± {r[f'pos100_{o}_se']:.1f} (vs {shares[0]}: {r[f'pos100_{o}_vs_first']:+.1f} ± {r[f'pos100_{o}_vs_first_se']:.1f}; "
            f"random {r[f'pos100_{o}_random']:.1f}), AP@200 {r[f'ap200_{o}']:.3f} ± {r[f'ap200_{o}_se']:.3f} (random {r[f'ap200_{o}_random']:.3f})"
            for o in labs), flush=True)
    return rows

if __name__=='__main__': cli(common, rare, '0.25,0.5,1.0')   # the first share is the one the others are compared with on rare sets
