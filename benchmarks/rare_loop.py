"""The rare loop on report sets: positives found and AP against random sampling, in fast mode and with the real model.

The rule and the sets are fixed in `benchmarks/results/rare_rule.md`, written before any of these figures.

Fast mode: `simulate.simulate` with `loop` (the learn queue's own rule) and `random`, 20 labels a batch, the pool the training
patients, evaluation the hold-out and validation patients; random also runs on to 600 labels.

Real model (`--real`), on a copy of the project, with the product's own commands:

- loop: the learn queue (`refresh_queue`) gives 100 images, labeled from the truth in queue order; `al-train` (which scores
  the pool and orders the queue again); 100 more from the queue; `al-train` again;
- random: 600 random training and validation images labeled from the truth (`al-demo-label`); `al-train`.

Both models are scored on the same images: the hold-out, and the training and validation images neither labeled.

    python benchmarks/rare_loop.py /work/rare/demo-51 ... [--repeats 10] [--real] [--out benchmarks/results/rare_loop]
"""
import argparse, shutil, subprocess, sys, tempfile, time, json
from pathlib import Path
import numpy as np, pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score
from active_learn.core import Project
from active_learn.simulate import simulate, found, _truth, _eval_probs
from active_learn.queues import refresh_queue, queue_ids
from active_learn.demo import label_from_truth

BIN = Path(sys.executable).parent

def truth_csv(d): return next(o for o in (d/'demo_truth.csv', d/'truth.csv') if o.exists())

def fast(d:Path, repeats:int, out:Path)->dict:
    "Positives found and hold-out AP of the fast stand-in: the loop and random to 200 labels, random on to 600"
    tmp = Path(tempfile.mkdtemp(prefix='rare-loop-'))
    kw = dict(seed_size=20, batch=20, repeats=repeats, mode='fast', verbose=False)
    df,_ = simulate(d/'project', truth_csv(d), strategies=['random','loop'], rounds=9, out=tmp/'a', **kw)
    d6,_ = simulate(d/'project', truth_csv(d), strategies=['random'], rounds=29, out=tmp/'b', **kw)
    df.assign(set=d.name).to_csv(out/f'rare_loop-{d.name}.csv', index=False)
    d6.assign(set=d.name).to_csv(out/f'rare_loop-{d.name}-random600.csv', index=False)
    shutil.rmtree(tmp)
    return df, d6

def _ap(y, p): return average_precision_score(y, p) if 0<y.sum()<len(y) else np.nan

def real(d:Path, seed:int=0)->dict:
    "AP and ROC AUC of `al-train`'s model: 200 labels chosen by the loop against 600 random ones, scored on the same images"
    tmp = Path(tempfile.mkdtemp(prefix='rare-real-'))
    res = {}
    for name in ('loop','random'):
        p = tmp/name; shutil.copytree(d/'project', p)
        db = Project(p)
        t0 = time.time()
        if name=='loop':
            for _ in range(2):
                refresh_queue(db, 'learn', n=100, seed=seed)
                label_from_truth(db, truth_csv(d), ids=queue_ids(db, 'learn')[:100])
                r = subprocess.run([BIN/'al-train', '--project', p], capture_output=True, text=True)
                if r.returncode: raise RuntimeError(r.stdout[-2000:] + r.stderr[-2000:])
        else:
            label_from_truth(db, truth_csv(d), n=600, seed=seed)
            r = subprocess.run([BIN/'al-train', '--project', p], capture_output=True, text=True)
            if r.returncode: raise RuntimeError(r.stdout[-2000:] + r.stderr[-2000:])
        res[name] = dict(db=db, run=db.latest_run()['id'], labeled={o for o, in db.execute('select image_id from labels')},
                         secs=time.time()-t0, msg=r.stdout.strip().splitlines()[-3:])
    t = _truth(res['loop']['db'], truth_csv(d)).set_index('image_id')
    ev = sorted(set(t.index) - res['loop']['labeled'] - res['random']['labeled'])
    y = t.loc[ev].to_numpy(int)
    out = dict(set=d.name, n_eval=len(ev), **{f'eval_pos_{o}':int(v) for o,v in zip(t.columns, y.sum(0))})
    for name,r in res.items():
        pr = _eval_probs(r['db'], r['run'], ev)
        lab = t.loc[sorted(r['labeled'] & set(t.index))].to_numpy(int)
        out.update({f'{name}_labels':len(r['labeled']), f'{name}_secs':round(r['secs']),
                    **{f'{name}_pos_{o}':int(v) for o,v in zip(t.columns, lab.sum(0))},
                    **{f'{name}_ap_{o}':_ap(y[:,j], pr[:,j]) for j,o in enumerate(t.columns)},
                    **{f'{name}_auc_{o}':(roc_auc_score(y[:,j], pr[:,j]) if 0<y[:,j].sum()<len(y) else np.nan) for j,o in enumerate(t.columns)},
                    f'{name}_said':' | '.join(r['msg'])})
    shutil.rmtree(tmp, ignore_errors=True)
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sets', nargs='+')
    ap.add_argument('--repeats', type=int, default=10)
    ap.add_argument('--real', action='store_true')
    ap.add_argument('--no-fast', action='store_true')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'))
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    for s in a.sets:
        d = Path(s)
        if not a.no_fast:
            t0 = time.time(); df, d6 = fast(d, a.repeats, out)
            f = found(df, at=[100, 200]).set_index(['strategy','n_labels'])
            f6 = found(d6, at=[200, 600]).set_index(['strategy','n_labels'])
            labs = [c[4:] for c in f.columns if c.startswith('pos_') and not c.endswith('_se')]
            print(f"{d.name} (fast mode, {a.repeats} repeats, {time.time()-t0:.0f} s):")
            for o in labs:
                lp, rp = f.loc[('loop',100),'pos_'+o], f.loc[('random',100),'pos_'+o]
                print(f"  {o}: positives in the first 100 labels, loop {lp:.1f} ± {f.loc[('loop',100),'pos_'+o+'_se']:.1f}, "
                      f"random {rp:.1f} ± {f.loc[('random',100),'pos_'+o+'_se']:.1f} ({lp/max(rp,1e-9):.1f}x); "
                      f"AP loop@200 {f.loc[('loop',200),'ap_'+o]:.3f} ({f.loc[('loop',200),'ap_'+o+'_lo']:.3f}-{f.loc[('loop',200),'ap_'+o+'_hi']:.3f}), "
                      f"random@200 {f6.loc[('random',200),'ap_'+o]:.3f}, random@600 {f6.loc[('random',600),'ap_'+o]:.3f} "
                      f"({f6.loc[('random',600),'ap_'+o+'_lo']:.3f}-{f6.loc[('random',600),'ap_'+o+'_hi']:.3f})", flush=True)
        if a.real:
            r = real(d)
            pd.DataFrame([r]).to_csv(out/f'rare_loop-{d.name}-real.csv', index=False)
            print(f"{d.name} real model: " + json.dumps({k:(round(v,3) if isinstance(v,float) else v) for k,v in r.items()}), flush=True)

if __name__=='__main__': main()
