"""What the frozen-feature benchmarks share: a benchmark set's pool with its truth, and a logistic head's pool AUC over label draws.

A set is a folder of `benchmarks/recipe.py --data DIR` (`project/` and a `ready` file naming its truth CSV)."""
from pathlib import Path
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
from active_learn.core import Project
from active_learn.demo import load_truth

def pool_images(data, name:str)->tuple:
    "(project, truth of its non-hold-out images) of set `name` under `data`"
    root = Path(data)/name; db = Project(root/'project')
    t = load_truth(db, (root/'ready').read_text().strip())
    split = {r['id']:r['split'] for r in db['images'].rows_where(select='id, split')}
    return db, t[t.image_id.map(split)!='test'].reset_index(drop=True)

def pool_auc(X, y, n:int, draws:int, C:float=0.05)->list:
    "ROC AUC on the rest of the pool of a logistic regression (standardised features, C scaled by width) fit on `n` random rows, per draw"
    res = []
    for d in range(draws):
        perm = np.random.default_rng(d).permutation(len(y)); tr,te = perm[:n],perm[n:]
        if y[tr].min()==y[tr].max(): continue
        sc = StandardScaler().fit(X[tr])
        p = LogisticRegression(C=C*1280/X.shape[1], max_iter=3000).fit(sc.transform(X[tr]), y[tr]).decision_function(sc.transform(X[te]))
        res.append(roc_auc_score(y[te], p))
    return res
