"""Learning from few positives: does positive weighting help a rare label at 5, 10 and 20 positives?

On the rare generated sets (`/work/rare/demo-41`, `/work/rare/demo-42`: 2-3 % of images per label, pretrained embeddings
in `project/models/pretrained-emb.npy`, truth in `demo_truth.csv`), each draw takes `n_pos` positives of one label and the
negatives that keep the set's own prevalence (n_neg = n_pos*(1-prev)/prev, so 20 positives come with ~780 negatives), from
the train and valid patients only. Each method fits on the draw's pretrained embeddings, and is scored on

- the hold-out (split 'test', every image, truth from the CSV): AP and ROC AUC;
- held aside: every train/valid image not drawn (more positives, so a steadier AP).

Methods, as `train` would use them on frozen features:

- `lr`: the frozen rung as it is (`fit_frozen_head`): standardised features, `LogisticRegression(C=0.05)`;
- `lr_bal`: the same with `class_weight='balanced'` (each positive weighs n_neg/n_pos, ~39 here);
- `lr_sqrt`: positives weigh sqrt(n_neg/n_pos) (~6);
- `focal`: a linear head on the standardised features trained with the tail's loss, `FocalLoss(gamma=2)` (Adam, full batch);
- `focal_pw`: the same with BCE `pos_weight` = n_neg/n_pos inside the focal term;
- `focal_sqrt`: `pos_weight` = sqrt(n_neg/n_pos).

Class-balanced sampling (fastai's `weighted_dataloaders`) is the same reweighting in expectation, with more variance; it is
not run separately. AP's chance level is the prevalence (~0.025).

    python benchmarks/few_positives.py [--draws 10] [--sets /work/rare/demo-41 /work/rare/demo-42] [--out benchmarks/results/few_positives.txt]
"""
import argparse, shutil, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score, average_precision_score
from active_learn.core import Project
from active_learn.queues import load_embeddings
from active_learn.simulate import _truth
from active_learn.train import FocalLoss

def load_set(d:Path):
    "(ids, X, truth DataFrame indexed by image id with split) of a rare set; read from a copy so nothing is written under `d`"
    tmp = Path(tempfile.mkdtemp())
    shutil.copy(d/'project'/'labels.db', tmp/'labels.db'); shutil.copytree(d/'project'/'models', tmp/'models')
    db = Project(tmp)
    try:
        ids,X = load_embeddings(db)
        t = _truth(db, d/'demo_truth.csv').set_index('image_id')
        sp = dict(db.execute("select id, split from images").fetchall())
        labels = db.labels
    finally: db.close(); shutil.rmtree(tmp, ignore_errors=True)
    t = t.reindex(ids); keep = t.notna().all(axis=1).to_numpy()
    t = t[keep].astype(int); t['split'] = [sp[i] for i in t.index]
    return np.asarray(ids)[keep], np.asarray(X[keep], np.float32), t, labels

def fit_lr(X, y, w1=1.):
    sc = StandardScaler().fit(X)
    clf = LogisticRegression(C=0.05, max_iter=3000, class_weight={0:1., 1:w1}).fit(sc.transform(X), y)
    return lambda Z: clf.decision_function(sc.transform(Z))

def fit_focal(X, y, pw=1., epochs=300, lr=1e-2, wd=1e-2, seed=0):
    torch.manual_seed(seed)
    sc = StandardScaler().fit(X)
    x,t = torch.from_numpy(sc.transform(X).astype(np.float32)),torch.from_numpy(y.astype(np.float32))[:,None]
    lin = torch.nn.Linear(x.shape[1], 1)
    opt = torch.optim.AdamW(lin.parameters(), lr=lr, weight_decay=wd)
    loss = FocalLoss(pos_weight=torch.tensor([pw])) if pw!=1 else FocalLoss()
    for _ in range(epochs):
        opt.zero_grad(); l = loss(lin(x), t); l.backward(); opt.step()
    return lambda Z: lin(torch.from_numpy(sc.transform(Z).astype(np.float32)))[:,0].detach().numpy()

METHODS = dict(lr=lambda X,y,r: fit_lr(X,y), lr_bal=lambda X,y,r: fit_lr(X,y,r), lr_sqrt=lambda X,y,r: fit_lr(X,y,np.sqrt(r)),
               focal=lambda X,y,r: fit_focal(X,y), focal_pw=lambda X,y,r: fit_focal(X,y,r), focal_sqrt=lambda X,y,r: fit_focal(X,y,np.sqrt(r)))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sets', nargs='+', default=['/work/rare/demo-41','/work/rare/demo-42'])
    ap.add_argument('--n-pos', nargs='+', type=int, default=[5,10,20])
    ap.add_argument('--draws', type=int, default=10)
    ap.add_argument('--out', default='benchmarks/results/few_positives.txt')
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows,t0 = [],time.time()
    for s in a.sets:
        ids,X,t,labels = load_set(Path(s))
        tv,te = (t.split!='test').to_numpy(),(t.split=='test').to_numpy()
        for o in labels:
            y = t[o].to_numpy(); prev = y[tv].mean()
            for n in a.n_pos:
                n_neg = int(round(n*(1-prev)/prev))
                for k in range(a.draws):
                    rng = np.random.default_rng(1000*n+k)
                    pos = rng.choice(np.where(tv & (y==1))[0], n, replace=False)
                    neg = rng.choice(np.where(tv & (y==0))[0], n_neg, replace=False)
                    tr = np.r_[pos, neg]; aside = tv.copy(); aside[tr] = False
                    for m,f in METHODS.items():
                        sc = f(X[tr], y[tr], n_neg/n)
                        p_te,p_as = sc(X[te]),sc(X[aside])
                        rows.append(dict(set=Path(s).name, label=o, n_pos=n, n_neg=n_neg, draw=k, method=m,
                                         ap_test=average_precision_score(y[te], p_te), auc_test=roc_auc_score(y[te], p_te),
                                         ap_aside=average_precision_score(y[aside], p_as), n_pos_test=int(y[te].sum()), n_pos_aside=int(y[aside].sum())))
                print(f"{Path(s).name} {o} {n} positives done ({time.time()-t0:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(Path(a.out).with_suffix('.csv'), index=False)
    g = df.groupby(['n_pos','method'])
    # spread: the standard deviation over draws (2 sets x 2 labels x draws), and the paired difference to `lr`/`focal`
    ref = df.set_index(['set','label','n_pos','draw','method'])
    diff = []
    for (st,lab,n,k,m),r in ref.iterrows():
        b = 'lr' if m.startswith('lr') else 'focal'
        rb = ref.loc[(st,lab,n,k,b)]
        diff.append(dict(n_pos=n, method=m, d_ap_test=r.ap_test-rb.ap_test, d_ap_aside=r.ap_aside-rb.ap_aside))
    dd = pd.DataFrame(diff).groupby(['n_pos','method'])
    summ = pd.concat([g.ap_test.mean().rename('AP test'), g.ap_test.std().rename('sd'),
                      g.ap_aside.mean().rename('AP aside'), g.ap_aside.std().rename('sd '),
                      g.auc_test.mean().rename('AUC test'), g.auc_test.std().rename('sd  '),
                      dd.d_ap_aside.mean().rename('dAP aside vs base'),
                      (dd.d_ap_aside.std()/np.sqrt(dd.d_ap_aside.count())).rename('se'),
                      dd.d_ap_aside.apply(lambda v: (v>0).mean()).rename('wins')], axis=1).round(3)
    hdr = (f"few_positives.py: {', '.join(a.sets)}; labels {labels}; {a.draws} draws per (set, label, n_pos), so {4*a.draws} fits per row; "
           f"negatives at each set's own prevalence; features: pretrained embeddings ({X.shape[1]}-d).\n"
           f"Hold-out positives per (set, label): {sorted(df.groupby(['set','label']).n_pos_test.first().tolist())}. "
           f"sd: over draws; dAP: paired difference in held-aside AP to the unweighted method of the same family (lr or focal), "
           f"se its standard error, wins the share of draws where it is higher. {time.time()-t0:.0f} s.\n")
    txt = hdr + summ.to_string()
    print(txt)
    Path(a.out).write_text(txt+'\n')

if __name__=='__main__': main()
