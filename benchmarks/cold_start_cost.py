"""What does the loop's cold start cost on a common label? The loop against stratified sampling, with and without its priors.

On the report sets of `rare_share_rule.md` the loop (`SEARCH_SHARE` 0.05) was below random by more than one standard
error on four common sets, always on the tools, where `stratified` alone, the loop's model-improving strategy, was level
with random on the same sets. On a common set the loop differs from `stratified` in one place only: its first batch is
the labels' priors in turns with a random share (`SEARCH_EXPLORE`), not a random draw; after it, every label has
positives past `SEARCH_SHARE` and the loop is `stratified`. This script separates the two, in fast mode, paired over
repeats as `al_compare.py` is:

- `stratified` and `random` start from the same 20 random labels;
- `loop` starts from the cold start (its priors);
- `loop` run with no priors (`loop-noprior`) starts from 20 random labels of another draw, then follows the loop's rule.

Printed per set: each one's area under the learning curve minus random's (mean AUC and per label, ± 1 SE), and the
biopsy_tool AUC at 20, 40, 100 and 200 labels.

    python benchmarks/cold_start_cost.py --data hard-8-rare-mag,hard-8 [--repeats 10] [--out /tmp/al_compare]
"""
import argparse, sys
from pathlib import Path
import pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from active_learn.simulate import simulate_arrays, vs_random
from al_compare import DATA, build, arrays

def run(name, repeats, out):
    _, seed, diff, thin = next(o for o in DATA if o[0]==name)
    proj, truth = build(out/f'{diff}{seed}', 110, seed, diff)
    xp, yp, xe, ye, labels, _, pp = arrays(proj, truth, thin, priors=True)
    kw = dict(labels=labels, seed_size=20, batch=20, rounds=9, repeats=repeats, seed=0)
    df = simulate_arrays(xp, yp, xe, ye, strategies=['random','stratified','loop'], prior=pp, **kw)
    nop = simulate_arrays(xp, yp, xe, ye, strategies=['loop'], prior=None, **kw).query("strategy=='loop'").assign(strategy='loop-noprior')
    df = pd.concat([df, nop], ignore_index=True)
    print(f"\n== {name}: pool {len(xp)} ({', '.join(f'{l} {m:.0%}' for l,m in zip(labels, yp.mean(0)))})")
    for col in ['auc_mean', *[f'auc_{o}' for o in labels]]:
        v = vs_random(df[df.strategy!='full'], col).set_index('strategy')
        print(f"  {col[4:]:12s} area - random: " + ', '.join(f"{s} {v.loc[s,'diff']:+.4f} ± {v.loc[s,'se']:.4f}" for s in ['stratified','loop','loop-noprior']))
    c = df[df.strategy!='full'].groupby(['strategy','n_labels'])[['auc_biopsy_tool', 'pos_biopsy_tool']].mean().unstack('strategy')
    print(c.loc[[20,40,100,200]].round(3).to_string())
    return df.assign(dataset=name)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='hard-8-rare-mag,hard-8')
    ap.add_argument('--repeats', type=int, default=10)
    ap.add_argument('--out', default='/tmp/al_compare')
    ap.add_argument('--csv', help='write the curves here')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dfs = [run(o, a.repeats, out) for o in a.data.split(',')]
    if a.csv: pd.concat(dfs).to_csv(a.csv, index=False)

if __name__=='__main__': main()
