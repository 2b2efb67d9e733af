"""ROC AUC of `al-train`'s default model against a frozen light head, on datasets the recipe was not tuned on.

Datasets (`--sets kind:seed,...`): `normal` and `hard` demos (`make_demo`), and `realistic` sets (`make_realistic`: real
CBIS-DDSM tissue with tools at physical size, a renderer of its own). The recipe was chosen on normal:1 only (nbs/benchmarks/train_research.ipynb);
report on other seeds. Each set is written and ingested once into `--data DIR/KIND-SEED` and reused by later runs.

For each label count, `--labels` random train/valid images are labeled from the ground truth (draw `--draw`) in a copy of the
project, then:
  - default: `train(db)` with every default (the ladder: a frozen head below 150 labels, the trained tail from 150), scored on
    the labeled hold-out (`evaluate_holdout`) and on the unlabeled pool (the predictions `train` stored for it);
  - frozen: the same pretrained network (the default tapped body), frozen, on the same 512x416 input, max-pooled, and a logistic regression per label
    (C=0.05, standardised features) on the same labels: the light head the model has to beat.
The hold-out holds 10% of patients, so a handful of tools: the pool AUC (several hundred images) is the steadier figure.
Prints one JSON line per run, then per kind and label count the mean and standard deviation over sets.

    python benchmarks/recipe.py [--sets normal:7,hard:8,realistic:2] [--labels 50,100,200] [--patients 110] [--data DIR] [--ladder N]
"""
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import argparse, json, shutil, sqlite3, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.metrics import roc_auc_score
from active_learn.core import Project
from active_learn.demo import make_demo, label_from_truth, load_truth
from active_learn.realistic import make_realistic
from active_learn.ingest import ingest
from active_learn.backbone import input_shape
from active_learn.train import train, project_dls, project_learner
from active_learn.evaluate import evaluate_holdout

def make_set(data:Path, kind:str, seed:int, patients:int)->tuple:
    "Project folder and truth CSV of dataset `kind`:`seed`, written and ingested on first use"
    d = data/f'{kind}-{seed}'
    if (d/'ready').exists(): return d/'project', Path((d/'ready').read_text())
    if kind=='realistic': src,truth = make_realistic(d/'src', n_patients=patients, seed=seed)
    else: src,truth = make_demo(d/'src', n_patients=patients, seed=seed, difficulty=kind)
    shutil.rmtree(d/'project', ignore_errors=True)
    ingest([src], d/'project', verbose=False)
    (d/'ready').write_text(str(truth))
    return d/'project', Path(truth)

def all_images(db, truth)->pd.DataFrame:
    "Every ingested image with its thumbnail, split and ground truth"
    rows = db.execute("select id, thumb, split from images where thumb is not null order by id").fetchall()
    df = pd.DataFrame(rows, columns=['image_id','thumb','split'])
    df['thumb'] = [str(db.path/o) for o in df.thumb]
    return df.merge(load_truth(db, truth), on='image_id').reset_index(drop=True)

@torch.inference_mode()
def frozen_features(db, df, cache:Path)->np.ndarray:
    "Max-pooled features of the frozen pretrained network at 512x416 for every row of `df` (inference only), cached"
    if cache.exists(): return np.load(cache)
    dls = project_dls(db, input_shape(512), 32, df=df[df.split!='test'].iloc[:64], aug=False)
    body = project_learner(dls, lin_ftrs=[], first_bn=False).model[0].eval().to(memory_format=torch.channels_last)
    X = torch.cat([body(b[0].as_subclass(torch.Tensor).contiguous(memory_format=torch.channels_last)).amax((2,3))
                   for b in dls.test_dl(df, bs=32)]).numpy()
    np.save(cache, X); return X

def _auc(t, p): return round(float(roc_auc_score(t, p)), 4) if 0<t.sum()<len(t) else None

def run(proj:Path, truth:Path, n:int, draw:int, work:Path, ladder:int=None)->dict:
    "Label `n` images in a copy of `proj`, train with the defaults, and score both models on the hold-out and the pool"
    db0 = Project(proj); labels = db0.labels
    df = all_images(db0, truth)
    X = frozen_features(db0, df, proj.parent/'frozen512-taps.npy')   # the default body: `TappedBody`
    shutil.rmtree(work, ignore_errors=True); work.mkdir(parents=True)
    # SQLite's backup copies what is still in the write-ahead log too
    with sqlite3.connect(proj/'labels.db') as a, sqlite3.connect(work/'labels.db') as b: a.backup(b)
    os.symlink(proj/'thumbs', work/'thumbs')
    db = Project(work)
    with db.conn: db.execute('delete from labels'); db.execute('delete from events')   # a set reused from elsewhere starts unlabeled
    lab = set(label_from_truth(db, truth, n=n, seed=draw))
    t = time.perf_counter(); rid = train(db, show=False, **({} if ladder is None else dict(ladder_labels=ladder))); dt = time.perf_counter()-t
    rung = json.loads(db['runs'].get(rid)['settings']).get('rung')
    label_from_truth(db, truth, splits='test')
    hold = evaluate_holdout(db, rid, show=False)
    preds = pd.DataFrame(db.execute(f"select image_id, {', '.join(labels)} from preds where run_id=?", [rid]).fetchall(), columns=['image_id', *labels])
    is_lab,is_test = df.image_id.isin(lab).values,(df.split=='test').values
    pool = df[~is_lab & ~is_test].merge(preds, on='image_id', suffixes=('','_p'))
    res = dict(n=n, draw=draw, rung=rung, train_s=round(dt), n_hold=hold['n_images'])
    for o in labels:
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000)).fit(X[is_lab], df.loc[is_lab, o])
        pf = clf.predict_proba(X)[:,1]
        res[o] = dict(hold_pos=hold['labels'][o]['n_pos'], hold=hold['labels'][o]['roc_auc'], hold_frozen=_auc(df.loc[is_test, o].values, pf[is_test]),
                      pool=_auc(pool[o].values, pool[f'{o}_p'].values), pool_frozen=_auc(df.loc[~is_lab & ~is_test, o].values, pf[~is_lab & ~is_test]))
    shutil.rmtree(work, ignore_errors=True)
    return res

def summary(rows:list, labels:list)->str:
    "Mean and standard deviation over sets, per kind and label count"
    out = []
    for (kind,n),g in pd.DataFrame(rows).groupby(['kind','n']):
        for o in labels:
            f = lambda k: (lambda v: f"{np.mean(v):.3f} ± {np.std(v):.3f}" if len(v) else 'n/a')([r[o][k] for r in g.to_dict('records') if r[o][k] is not None])
            wins = sum(r[o]['pool'] > r[o]['pool_frozen'] for r in g.to_dict('records') if r[o]['pool'] is not None)
            out.append(f"{kind:9} {n:4d} labels, {len(g)} set(s), {o:12}: hold-out default {f('hold')} frozen {f('hold_frozen')} | "
                       f"pool default {f('pool')} frozen {f('pool_frozen')} | default better on the pool in {wins}/{len(g)}")
    return '\n'.join(out)

def main(sets, n_labels, patients, draw, data, ladder=None):
    data = Path(data) if data else Path(tempfile.mkdtemp())
    rows = []
    for st in sets:
        kind,seed = st.split(':')
        proj,truth = make_set(data, kind, int(seed), patients)
        for n in n_labels:
            r = dict(kind=kind, seed=int(seed), **run(proj, truth, n, draw, data/'work', ladder))
            rows.append(r); print(json.dumps(r), flush=True)
    print(summary(rows, Project(proj).labels))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sets', default='normal:7,hard:8,realistic:2'); ap.add_argument('--labels', default='50,100,200')
    ap.add_argument('--patients', type=int, default=110); ap.add_argument('--draw', type=int, default=0)
    ap.add_argument('--data', default=None, help='folder to keep the generated sets in between runs (default: a temporary one)')
    ap.add_argument('--ladder', type=int, default=None, help="`train`'s ladder_labels (default: its own); 0 always trains the tail")
    a = ap.parse_args()
    main(a.sets.split(','), [int(o) for o in a.labels.split(',')], a.patients, a.draw, a.data, a.ladder)
