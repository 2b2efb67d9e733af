"""Why 200 labels chosen by the loop give a weaker model than 600 random ones: learner variants on fixed label sets.

On a rare tuning set, the label sets are fixed first:

- `loop200`: the 200 images the product's loop asks for (`refresh_queue('learn')`, 100, `al-train`, 100 more, `al-train`), as
  `rare_loop.py --real` labels them; made once with `--make-loop` and kept in `--ids-dir`;
- `random600-S`, `random200-S`: uniform draws of the training and validation images (seed S; the 200 are the 600's first);
- `mix100`: the loop's first 100 (its cold start) and 100 random images.

Then each variant of the learner is trained on a set and scored on the same evaluation images (the hold-out and every image in
neither `loop200` nor the random 600): biopsy-tool and magnification-view AP and ROC AUC. Every variant trains `train`'s tail
recipe (`tail.tail_learner`, its two phases and `tail.keep_tail`, as `train` runs them) on the frozen trunk's activations,
computed once per set and cached (`--cache`), so a variant costs the tail's fit (1-8 min on 2 cores), not a whole `al-train`:

- `tail`: the default (pos_weight √(neg/pos), 10 epochs); `tail-e20`: 20 epochs; `nopw`: no positive weighting;
- `frozen` / `frozen-C`: the logistic head on the frozen network (`tail.fit_frozen_head`, inverse L2 strength C);
- `puK`: `tail` with K unlabeled images (from `random600-0`, outside the evaluation set) added as presumed negatives.

    python benchmarks/rare_learner.py /work/rare/demo-42 --make-loop
    python benchmarks/rare_learner.py /work/rare/demo-42 --variants tail,frozen,tail-e20 --sets loop200,random600-0,random200-0,mix100 [--fit-seeds 0,1]

The demo-42 rows with a negative `fit_seed` (-1, -2: first and second fit) were fitted before the script seeded Python's generator (fastai's shuffling draws from it),
so two fits of one setting could differ: random200-0's tail gave 0.080 and 0.147 tool AP. Hence `--fit-seeds`.
"""
import argparse, json, shutil, subprocess, sys, tempfile, time, warnings
from copy import deepcopy
from pathlib import Path
import numpy as np, pandas as pd, torch
from sklearn.metrics import average_precision_score, roc_auc_score
from fastai.torch_core import set_seed
from active_learn.core import Project
from rare_loop import truth_csv   # this folder is on the path when a script here runs
from active_learn.simulate import _truth
from active_learn.queues import refresh_queue, queue_ids
from active_learn.demo import label_from_truth
from active_learn.train import TrainConfig, project_learner, _fit_phases, label_status, _infer_df
from active_learn.tail import split_trunk, trunk_acts, tail_learner, fit_frozen_head, keep_tail, _tail_logits

BIN = Path(sys.executable).parent

def make_loop(d:Path, out:Path):
    "The 200 image ids the product's loop asks for, in order, with `al-train` after each 100"
    p = Path(tempfile.mkdtemp(prefix='loop200-'))/'project'; shutil.copytree(d/'project', p)
    db = Project(p)
    try:
        for _ in range(2):
            refresh_queue(db, 'learn', n=100, seed=0)
            label_from_truth(db, truth_csv(d), ids=queue_ids(db, 'learn')[:100])
            r = subprocess.run([BIN/'al-train', '--project', p], capture_output=True, text=True)
            if r.returncode: raise RuntimeError(r.stdout[-2000:] + r.stderr[-2000:])
        pd.DataFrame(dict(image_id=[o for o, in db.execute('select image_id from labels order by rowid')])).to_csv(out, index=False)
    finally: shutil.rmtree(p.parent, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('set')
    ap.add_argument('--make-loop', action='store_true')
    ap.add_argument('--variants', default='tail,frozen')
    ap.add_argument('--sets', default='loop200,random600-0,random200-0')
    ap.add_argument('--ids-dir', default=str(Path(__file__).parent/'results'))
    ap.add_argument('--fit-seeds', default='42')   # the tail's fit is noisy at 200 labels: several seeds per set and variant
    ap.add_argument('--cache', default=None)   # the trunk activations (default: next to the set, acts.pt)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    d = Path(a.set); ids_csv = Path(a.ids_dir)/f'rare_learner-{d.name}-loop200.csv'
    if a.make_loop:
        t0 = time.time(); make_loop(d, ids_csv); print(f"{d.name}: the loop's 200 labels in {ids_csv}, {time.time()-t0:.0f} s"); return
    torch.set_num_threads(2)
    db = Project(d/'project'); labels = db.labels
    t = _truth(db, truth_csv(d)).set_index('image_id')
    ids = [o for o, in db.execute("select id from images where thumb is not null order by id")]
    img = db.images_df(ids).set_index('image_id')
    cfg = TrainConfig(show=False, predict=False)
    learn = project_learner(cfg.dls(db, _infer_df(db, labels), 0), cfg.arch, cfg.weights, path=db.path, loss_func=cfg.loss(), **cfg.learner_kw)
    trunk, tl0 = split_trunk(learn.model)
    cache = Path(a.cache or d/'acts.pt')
    if cache.exists(): acts = torch.load(cache)
    else:
        t0 = time.time(); df = img.reset_index().assign(**{o:0 for o in labels})
        acts = trunk_acts(trunk, learn.dls.test_dl(df, bs=32, num_workers=2)); torch.save(acts, cache)
        print(f"trunk activations {tuple(acts.shape)} in {time.time()-t0:.0f} s", flush=True)
    pos = {o:i for i,o in enumerate(ids)}
    nonhold = [o for o in ids if img.loc[o,'split']!='test']
    loop = pd.read_csv(ids_csv).image_id.tolist()
    sets = {'loop200': loop}
    for s in range(3):
        r = np.random.default_rng(s).permutation(nonhold)
        sets[f'random600-{s}'],sets[f'random200-{s}'] = r[:600].tolist(),r[:200].tolist()
    sets['mix100'] = loop[:100] + [o for o in sets['random600-0'] if o not in set(loop)][:100]

    def fit(lab, v):
        y = t.loc[lab, labels].to_numpy(np.float32)
        if v.startswith('pu'):   # presumed negatives: unlabeled images outside the evaluation set, 0 for every label
            extra = [o for o in sets['random600-0'] if o not in set(lab)][:int(v[2:])]
            lab,y = lab+extra,np.concatenate([y, np.zeros((len(extra), len(labels)), np.float32)])
        idx = torch.tensor([pos[o] for o in lab])
        tl = deepcopy(tl0)
        ls = label_status(img.loc[lab].assign(**{o:y[:,j] for j,o in enumerate(labels)}), labels, True)
        lw = [0. if o in ls['untrained'] else 1. for o in labels]
        pw = [1.]*len(labels) if v=='nopw' else [np.sqrt(c['neg']/c['pos']) if c['pos'] and c['neg'] else 1. for c in ls['counts'].values()]
        if v.startswith('frozen'): return fit_frozen_head(tl, acts[idx, 0], y, C=float(v.split('-')[1]) if '-' in v else 0.05)
        ep = int(v.split('-e')[1]) if '-e' in v else cfg.epochs
        frozen = deepcopy(tl)
        tlearn = tail_learner(tl, acts[idx], torch.from_numpy(y), (img.loc[lab,'split']=='valid').to_numpy(), cfg.loss(lw, pw), [],
                              bs=cfg.bs, wd=cfg.wd, path=db.path, fit_valid=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            _fit_phases(tlearn, [(1, cfg.lr, True, []), (ep-1, slice(*cfg.lrs['phase2']), False, [])], False)
        k = keep_tail(tl, fit_frozen_head(frozen, acts[idx, 0], y), acts[idx, 0], y, labels)
        return tl if k['keep'] else frozen

    rows = []
    for name in a.sets.split(','):
        lab = [o for o in sets[name] if o in t.index]
        other = sets['random600-'+name[-1]] if name.startswith('random') else sets['random600-0']
        ev = sorted(set(ids) - set(loop) - set(other))
        y = t.loc[ev, labels].to_numpy(int)
        for v in a.variants.split(','):
          for fs in map(int, a.fit_seeds.split(',')):
            set_seed(fs)   # python's, numpy's and torch's generators, as `train` seeds them
            t0 = time.time(); p = _tail_logits(fit(lab, v), acts[torch.tensor([pos[o] for o in ev]), 0])
            r = dict(set=d.name, labels=name, variant=v, fit_seed=fs, secs=round(time.time()-t0), n_eval=len(ev),
                     **{f'pos_{o}': int(t.loc[lab, o].sum()) for o in labels},
                     **{f'eval_pos_{o}': int(y[:,j].sum()) for j,o in enumerate(labels)},
                     **{f'ap_{o}': round(average_precision_score(y[:,j], p[:,j]), 3) for j,o in enumerate(labels)},
                     **{f'auc_{o}': round(roc_auc_score(y[:,j], p[:,j]), 3) for j,o in enumerate(labels)})
            rows.append(r); print(json.dumps(r), flush=True)
    out = Path(a.out or Path(__file__).parent/'results'/f'rare_learner-{d.name}.csv')
    new = pd.DataFrame(rows)
    if out.exists(): new = pd.concat([pd.read_csv(out), new]).drop_duplicates(['set','labels','variant','fit_seed'], keep='last')
    new.to_csv(out, index=False)

if __name__=='__main__': main()
