"""Hold-out ROC AUC of `al-train`'s default model against a frozen light head, on demo data it was not tuned on.

For each dataset (`--sets difficulty:seed,...`, default normal:2,hard:2) a demo is made and ingested, `--labels` random
train/valid images are labeled from the ground truth (draw `--draw`), then:
  - recipe: `train(db)` with every default, then `evaluate_holdout` on the labeled hold-out;
  - frozen: the same pretrained backbone, frozen, on the same 512x416 input, max-pooled (the best frozen representation
    measured in nbs/06_train.ipynb), and a logistic regression (C=0.05, standardised features) on the same labels.
The recipe was tuned on normal:1 only; report on other seeds. Prints one line per dataset and label count.

    python benchmarks/recipe.py [--sets normal:2,hard:2] [--labels 50,100,200] [--patients 150] [--draw 0]
"""
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import argparse, json, shutil, sqlite3, tempfile, time
from pathlib import Path
import numpy as np, torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.metrics import roc_auc_score
from active_learn.core import open_project, get_labels, labeled_df
from active_learn.demo import make_demo, label_from_truth
from active_learn.ingest import ingest
from active_learn.train import train, evaluate_holdout, project_dls, project_learner, input_shape

@torch.inference_mode()
def frozen_features(db, df)->np.ndarray:
    "Max-pooled features of the frozen pretrained backbone at 512x416, one row per row of `df` (hold-out rows allowed: inference only)"
    learn = project_learner(project_dls(db, input_shape(512), 32, df=labeled_df(db), aug=False), lin_ftrs=[], first_bn=False)
    body = learn.model[0].eval().to(memory_format=torch.channels_last)
    dl = learn.dls.test_dl(df, bs=32)
    return torch.cat([body(b[0].as_subclass(torch.Tensor).contiguous(memory_format=torch.channels_last)).amax((2,3)) for b in dl]).numpy()

def frozen_auc(db, labels)->dict:
    trn, tst = labeled_df(db), labeled_df(db, 'test')
    X = frozen_features(db, __import__('pandas').concat([trn, tst]).reset_index(drop=True))
    Xtr, Xte = X[:len(trn)], X[len(trn):]
    res = {}
    for o in labels:
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=3000)).fit(Xtr, trn[o])
        res[o] = roc_auc_score(tst[o], clf.predict_proba(Xte)[:,1])
    return res

def main(sets, n_labels, patients, draw):
    tmp = Path(tempfile.mkdtemp())
    try:
        for st in sets:
            diff, seed = st.split(':')
            src, truth = make_demo(tmp/st.replace(':','')/'demo', n_patients=patients, seed=int(seed), difficulty=diff)
            base = tmp/st.replace(':','')/'base'
            ingest([src], base, verbose=False)
            for n in n_labels:
                proj = tmp/st.replace(':','')/f'n{n}'
                shutil.rmtree(proj, ignore_errors=True); proj.mkdir()
                # SQLite's backup copies what is still in the write-ahead log too
                with sqlite3.connect(base/'labels.db') as a, sqlite3.connect(proj/'labels.db') as b: a.backup(b)
                os.symlink(base/'thumbs', proj/'thumbs')
                db = open_project(proj); labels = get_labels(db)
                label_from_truth(db, truth, n=n, seed=draw)
                t = time.perf_counter(); rid = train(db, show=False); dt = time.perf_counter()-t
                label_from_truth(db, truth, splits='test')
                r = evaluate_holdout(db, rid, show=False)
                fz = frozen_auc(db, labels)
                npos = {o: r['labels'][o]['n_pos'] for o in labels}
                print(f"{diff} seed {seed}, {n} labels, hold-out {r['n_images']} images {npos}: " +
                      ' | '.join(f"{o} recipe {r['labels'][o]['roc_auc']:.3f} frozen {fz[o]:.3f}" for o in labels) + f" | train() {dt:.0f}s", flush=True)
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sets', default='normal:2,hard:2'); ap.add_argument('--labels', default='50,100,200')
    ap.add_argument('--patients', type=int, default=150); ap.add_argument('--draw', type=int, default=0)
    a = ap.parse_args()
    main(a.sets.split(','), [int(o) for o in a.labels.split(',')], a.patients, a.draw)
