"""Labels the project declares rare: positives in the first 100 labels and AP at 200, against the loop without a declaration and random.

The rule and the sets are fixed in `benchmarks/results/declared_rare_rule.md`, written before any of these figures.
Fast mode (`simulate.simulate`: frozen features and a light head), 20 seed labels, 9 rounds of 20, the pool the training
patients, evaluation the hold-out and validation patients. `random` and `loop` with nothing declared run in one call,
`loop` with every label declared in a second with the same seeds, so the three share their repeats.

    python benchmarks/declared_rare.py /work/rare/real-57 ... [--repeats 10] [--out benchmarks/results/declared_rare]

Writes OUT-SET.csv (every round of every repeat) and appends the figures to OUT.txt.
"""
import argparse, shutil, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
from active_learn.core import Project
from active_learn.simulate import simulate, found

def truth_csv(d): return next(o for o in (d/'demo_truth.csv', d/'truth.csv') if o.exists())

def run(d:Path, repeats:int)->pd.DataFrame:
    "Every round of `random`, `loop` (nothing declared) and `loop+rare` (every label declared) on set `d`"
    tmp, labels = Path(tempfile.mkdtemp(prefix='declared-')), Project(d/'project').labels
    kw = dict(seed_size=20, batch=20, rounds=9, repeats=repeats, mode='fast', verbose=False)
    a,_ = simulate(d/'project', truth_csv(d), strategies=['random','loop'], rare=[], out=tmp/'a', **kw)
    b,_ = simulate(d/'project', truth_csv(d), strategies=['loop'], rare=labels, out=tmp/'b', **kw)
    shutil.rmtree(tmp)
    return pd.concat([a, b[b.strategy=='loop'].assign(strategy='loop+rare')]).assign(set=d.name)

def report(df:pd.DataFrame)->str:
    "Per label: positives in the first 100 labels (mean ± SE), the ratio to random's, AP at 200 (mean, 95% interval) and the declared loop's AP minus the loop's, paired over repeats"
    f = found(df, at=[100, 200]).set_index(['strategy','n_labels'])
    labs = [c[4:] for c in f.columns if c.startswith('pos_') and not c.endswith('_se')]
    out = []
    for o in labs:
        pos = lambda s: f"{f.loc[(s,100),'pos_'+o]:.1f} ± {f.loc[(s,100),'pos_'+o+'_se']:.1f}"
        ap = lambda s: f"{f.loc[(s,200),'ap_'+o]:.3f} ({f.loc[(s,200),'ap_'+o+'_lo']:.3f}-{f.loc[(s,200),'ap_'+o+'_hi']:.3f})"
        r = df[df.n_labels==200].pivot_table(index='repeat', columns='strategy', values='ap_'+o)
        dd = r['loop+rare']-r['loop']
        ratio = f.loc[('loop+rare',100),'pos_'+o]/max(f.loc[('random',100),'pos_'+o], 1e-9)
        out.append(f"  {o}: first 100 labels, declared {pos('loop+rare')} ({ratio:.1f}x random), undeclared {pos('loop')}, random {pos('random')}; "
                   f"AP at 200: declared {ap('loop+rare')}, undeclared {ap('loop')}, random {ap('random')}; declared - undeclared {dd.mean():+.3f} ± {dd.std(ddof=1)/np.sqrt(len(dd)):.3f}")
    return '\n'.join(out)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sets', nargs='+')
    ap.add_argument('--repeats', type=int, default=10)
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'declared_rare'))
    a = ap.parse_args()
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    for s in a.sets:
        d, t0 = Path(s), time.time()
        df = run(d, a.repeats)
        df.to_csv(f'{out}-{d.name}.csv', index=False)
        txt = f"{d.name} (fast mode, {a.repeats} repeats, {time.time()-t0:.0f} s):\n{report(df)}"
        print(txt, flush=True)
        with open(f'{out}.txt', 'a') as fh: fh.write(txt+'\n')

if __name__=='__main__': main()
