"""How much a hold-out drawn by the model's score tightens the figures, where the truth is known.

A 2%-prevalence population of 2,000 images (500 patients of 4), scores from a binormal model with ROC AUC 0.88 turned into
calibrated probabilities (the trained tail's pool AUC on the realistic sets is 0.80-0.89: `nbs/benchmarks/train_research.ipynb`); the decision
threshold is the best-F1 one on a second, independent population, as `train` tunes it on validation. Each draw labels 300
hold-out images uniformly (a simple random sample) and by score (`measure.proposal`, `measure.inclusion_probs`, Poisson
sampling, 300 in expectation), and estimates recall at the threshold (weighted draws: `measure.assisted_recall`, the difference
estimator with the score as control variate, bias-corrected, its interval from the found and the missed positives' gamma
intervals, each allowing one more positive than the draw saw, combined by MOVER; `--estimator wilson`: the same estimate with
`measure.assisted_rate`'s Wilson interval at the effective n from Poisson sampling's variance, the interval before it;
`--estimator hajek`: `measure.rate`, the Hájek ratio with the Wilson interval at its with-replacement effective n)
and ROC AUC (bootstrap over patients). By default the scores come from a simulated score model, which keeps the truth exact and
lets many populations be drawn; `--scores` measures the same on a real network's scores (below).

Seeds 100-104 (five populations, 50 draws each): `05a_measure` and the design choices were made on seeds 0-1 (the Hájek
design) and 0-9 (the assisted estimator, its bias correction and interval: `--seeds 0,...,9 --out .../evaluation-tuning`);
`assisted_recall`'s interval also on the real scores of `CHOSEN_ON`.
Seeds 200-204 (`--seeds 200,201,202,203,204 --out .../evaluation-report2`) are the fresh report of the bias correction
estimated from the draw (`results/bias_rule.md`), as `holdout_scores-real-55.csv` and `-real-56.csv` are among real scores.

    python benchmarks/evaluation.py [--draws 50] [--seeds 100,101,102,103,104] [--boot 0] [--auc 0.88] [--mix 0.8]
                                    [--estimator assisted|wilson|hajek] [--out PREFIX]
    python benchmarks/evaluation.py --scores benchmarks/results/holdout_scores-demo-42.csv --draws 1000

`--scores` takes a real network's scores on a rare set whose truth is known (`holdout_scores.py`: the default model trained on
600 random labels of one rare set, scoring every image of another), one population per label, and writes the same figures
beside the CSV (.txt).

The default run writes benchmarks/results/evaluation.{txt,csv}; `--estimator wilson` the figures before `assisted_recall`
(evaluation-wilson, evaluation-tuning-wilson, and holdout_scores-*-wilson.txt), `--estimator hajek` those before the assisted estimator (evaluation-hajek); the variations (of the Hájek estimator) (--auc 0.95, --mix 0.95, --boot 200) write
evaluation-auc95, evaluation-mix95 and evaluation-boot; `--n 600 --draws 40 --seeds 100,101 --boot 200` writes
evaluation-n600, the check of the AUC interval's coverage by the number of positives seen.
"""
import argparse, time, sys
from pathlib import Path
import numpy as np, pandas as pd
from active_learn.measure import simulate_holdout, holdout_summary, MIN_POS, rare_population, f1_threshold, inclusion_probs

ap = argparse.ArgumentParser()
ap.add_argument('--draws', type=int, default=50)
ap.add_argument('--seeds', default='100,101,102,103,104')
ap.add_argument('--boot', type=int, default=0)   # > 0: also AUC intervals (a bootstrap per draw: minutes)
ap.add_argument('--n', type=int, default=300)   # hold-out labels per draw
ap.add_argument('--auc', type=float, default=0.88)   # the score model's ROC AUC
ap.add_argument('--mix', type=float, default=0.8)   # the proposal's score share (`measure.proposal`)
ap.add_argument('--estimator', default='assisted', choices=['assisted','wilson','hajek'])   # for the weighted draws
ap.add_argument('--scores', default=None)   # a real model's scores (`holdout_scores.py`): each label's column is the hold-out population
ap.add_argument('--out', default=None)
a = ap.parse_args()

# real scores `assisted_recall`'s interval was chosen on: its largest-weight rule for the found positives on demo-41's magnification
# views, its limits out to whole numbers on demo-53's (93.0% coverage before); real-43 was the check after the last choice
CHOSEN_ON = ('holdout_scores-demo-42.csv', 'holdout_scores-demo-41.csv', 'holdout_scores-demo-53.csv')

def best_width(seed, n, auc):
    """The narrowest 95% recall interval a design-unbiased estimate can have, on average, with n labels and these (calibrated) scores.
    Godambe and Joshi (1965): under a model where y is Bernoulli(p) given the score, no design with inclusion probabilities π and no
    design-unbiased estimator has a smaller anticipated variance than Σ (1/π − 1)·σ², here σ² = p(1 − p)·(d − R)² / (Σp)² for recall
    (linearised at the true recall R); it is least at π ∝ √(p(1 − p))·|d − R| (capped at 1, Σπ = n). The normal interval's width at it"""
    pop = rare_population(2000, 0.02, auc, seed=seed)
    th = f1_threshold(*rare_population(2000, 0.02, auc, seed=seed+10_000)[['y','p']].to_numpy().T)   # as `simulate_holdout` draws them
    y,p = pop.y.to_numpy(),pop.p.to_numpy(); d = (p>=th).astype(float)
    e2 = p*(1-p)*(d-(y*d).sum()/y.sum())**2
    pi = inclusion_probs(np.sqrt(e2)+1e-12, n)
    return 2*1.96*np.sqrt(((1/pi-1)*e2).sum())/p.sum()

def _auc(r): return f"; AUC width {r.auc_width:.3f}, coverage {r.auc_coverage:.2f}, bias {r.auc_bias:+.3f} ± {r.auc_bias_se:.3f}" if 'auc_width' in r else ''
def _ratio(sm): return f", AUC {sm.loc['weighted','auc_width']/sm.loc['uniform','auc_width']:.2f}" if 'auc_width' in sm else ''

def real_scores(path, draws, n, mix, estimator):
    "Per label of a `holdout_scores.py` CSV: the weighted and the uniform draw on the real model's scores, truth known"
    sc = pd.read_csv(path); lines = []
    for o in [c[2:] for c in sc.columns if c.startswith('y_')]:
        pop = pd.DataFrame(dict(patient=sc.patient, y=sc['y_'+o], p=sc['p_'+o]))
        d = simulate_holdout(pop=pop, threshold=float(sc['threshold_'+o].iloc[0]), n=n, draws=draws, mix=mix, estimator=estimator)
        sm = holdout_summary(d)
        lines.append(f"{o}: {len(pop)} images, {pop.y.sum()} positive ({pop.y.mean():.1%}), score ROC AUC {d.true_auc.iloc[0]:.3f}, "
                     f"threshold {d.threshold.iloc[0]:.3f}, true recall {d.true_recall.iloc[0]:.3f}")
        for m in ('uniform','weighted'):
            r = sm.loc[m]
            lines.append(f"  {m:8s}: positives seen {r.positives:5.1f}, no estimate {int(r.undefined):3d}/{draws}; recall interval width {r.width:.3f}, "
                         f"coverage {r.coverage:.3f}, bias {r.bias:+.4f} ± {r.bias_se:.4f} (sd {r.sd:.3f})")
        lines.append(f"  width ratio weighted/uniform: recall {sm.loc['weighted','width']/sm.loc['uniform','width']:.2f}")
    return '\n'.join(lines)

if a.scores:
    t0 = time.time()
    seen = Path(a.scores).name in CHOSEN_ON
    txt = (f"{a.draws} draws of {a.n} hold-out labels on a real model's scores ({a.scores}); proposal score share {a.mix}; weighted "
           f"estimator: {a.estimator}. The design was chosen on simulated populations (seeds 0-9), `assisted_recall`'s interval on those and on "
           f"the scores of {', '.join(CHOSEN_ON)}; " + ("these scores are among them, so this is not a check." if seen else
           "these scores played no part in any choice.") + "\n\n" + real_scores(a.scores, a.draws, a.n, a.mix, a.estimator) + f"\n({time.time()-t0:.0f} s)")
    print(txt); Path(a.out or Path(a.scores).with_suffix('.txt')).write_text(txt+'\n'); sys.exit()

a.out = a.out or str(Path(__file__).parent/'results'/'evaluation')
t0 = time.time(); dfs = []
for s in map(int, a.seeds.split(',')):
    d = simulate_holdout(n_pop=2000, prev=0.02, auc=a.auc, n=a.n, draws=a.draws, mix=a.mix, seed=s, n_boot=a.boot, estimator=a.estimator).assign(seed=s)
    dfs.append(d)
    sm = holdout_summary(d)
    print(f"seed {s}: true recall {d.true_recall.iloc[0]:.3f}, threshold {d.threshold.iloc[0]:.3f}; width weighted/uniform "
          f"{sm.loc['weighted','width']/sm.loc['uniform','width']:.2f}", flush=True)
df = pd.concat(dfs, ignore_index=True)
df.to_csv(a.out+'.csv', index=False)
lines = [f"{a.draws} draws on each of {len(dfs)} populations (seeds {a.seeds}): 2,000 images, 2% positive, {a.n} hold-out labels, "
         f"score model ROC AUC {a.auc}, proposal score share {a.mix}; weighted estimator: {a.estimator}; {time.time()-t0:.0f} s",
         "Choices were made on tuning seeds 0-9 only; seeds 100-104 played no part in any choice.", ""]
for s,g in df.groupby('seed'):
    sm = holdout_summary(g)
    lines.append(f"seed {s}: true recall {g.true_recall.iloc[0]:.3f}, true AUC {g.true_auc.iloc[0]:.3f}")
    for m in ('uniform','weighted'):
        r = sm.loc[m]
        lines.append(f"  {m:8s}: positives seen {r.positives:5.1f}, no estimate {int(r.undefined):2d}/{a.draws}; recall interval width {r.width:.3f}, "
                     f"coverage {r.coverage:.2f}, bias {r.bias:+.3f} ± {r.bias_se:.3f} (sd {r.sd:.3f})" + _auc(r))
    lines.append(f"  width ratio weighted/uniform: recall {sm.loc['weighted','width']/sm.loc['uniform','width']:.2f}" + _ratio(sm))
sm = holdout_summary(df)
lines += ["", "All draws pooled (bias pooled over populations; each population's own truth):"]
for m in ('uniform','weighted'):
    r = sm.loc[m]
    lines.append(f"  {m:8s}: positives seen {r.positives:5.1f}, no estimate {int(r.undefined)}; recall width {r.width:.3f}, coverage {r.coverage:.3f}, "
                 f"bias {r.bias:+.4f} ± {r.bias_se:.4f}" + _auc(r))
lines.append(f"  width ratio weighted/uniform: recall {sm.loc['weighted','width']/sm.loc['uniform','width']:.2f}" + _ratio(sm))
if a.boot:   # how the AUC interval's coverage depends on the positives seen: the reason for MIN_POS
    lines += ["", f"AUC interval coverage by positives seen (fewer than {MIN_POS} / at least {MIN_POS}):"]
    for m,g in df.groupby('mode'):
        cov = lambda h: f"{((h.auc_lo<=h.true_auc)&(h.true_auc<=h.auc_hi)).mean():.3f} over {len(h)} draws" if len(h) else 'no draw'
        lines.append(f"  {m:8s}: {cov(g[g.n_pos<MIN_POS])} / {cov(g[g.n_pos>=MIN_POS])}")
bw = {s: best_width(s, a.n, a.auc) for s in df.seed.unique()}
lines += ["", "The narrowest recall interval any design-unbiased estimate could have on average with these labels and scores (the Godambe-Joshi",
          "bound at its best inclusion probabilities, knowing the true recall: `best_width`), and its ratio to uniform sampling's width:"]
for s,g in df.groupby('seed'):
    lines.append(f"  seed {s}: {bw[s]:.3f}, ratio {bw[s]/holdout_summary(g).loc['uniform','width']:.2f}")
lines.append(f"  pooled: {np.mean(list(bw.values())):.3f}, ratio {np.mean(list(bw.values()))/sm.loc['uniform','width']:.2f}")
txt = '\n'.join(lines)
print(txt); Path(a.out+'.txt').write_text(txt+'\n')
